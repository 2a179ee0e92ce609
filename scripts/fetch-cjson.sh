#!/usr/bin/env bash
# Fetch cJSON's source from Debian (the cjson source package, with Debian's
# security patches applied) into build/deps/cjson, for the native and the WASM
# build alike. The upstream tarball inside it is checked against a pinned
# sha256. Never commit the result: it is a build input, not our code.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/build/deps/cjson"
orig_sha256=5308fd4bd90cef7aa060558514de6a1a4a0819974a26e6ed13973c5f624c24b2  # cjson_1.7.15.orig.tar.gz

[ -f "$dest/cJSON.c" ] && [ -f "$dest/cJSON.h" ] && exit 0

if ! apt-cache showsrc cjson >/dev/null 2>&1 || [ -z "$(apt-cache showsrc cjson 2>/dev/null)" ]; then
  echo "fetch-cjson: no deb-src entry for cjson; run scripts/setup-debian.sh as root (it enables deb-src)" >&2
  exit 1
fi
command -v dpkg-source >/dev/null || { echo "fetch-cjson: dpkg-source missing: apt-get install dpkg-dev" >&2; exit 1; }

work=$(mktemp -d); chmod 755 "$work"  # apt drops to user _apt to download
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -q cjson >/dev/null)
tarball=$(ls "$work"/cjson_*.orig.tar.gz)
echo "$orig_sha256  $tarball" | sha256sum -c --quiet - || { echo "fetch-cjson: checksum mismatch for $tarball" >&2; exit 1; }
src=$(find "$work" -maxdepth 1 -type d -name 'cjson-*' | head -1)
mkdir -p "$dest"
cp "$src/cJSON.c" "$src/cJSON.h" "$src/LICENSE" "$dest/"
echo "fetch-cjson: cJSON $(basename "$src") -> build/deps/cjson"
