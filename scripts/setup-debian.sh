#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build, test and serve
# unravel. Run as root. Idempotent: skips what is already there.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "setup-debian: run as root (it installs Debian packages)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

# cJSON's source comes from Debian's source package: enable deb-src.
if [ -f /etc/apt/sources.list.d/debian.sources ] && ! grep -q '^Types:.*deb-src' /etc/apt/sources.list.d/debian.sources; then
  sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
fi
if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list && ! grep -q '^deb-src ' /etc/apt/sources.list; then
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/unravel-src.list
fi

# Install a package only where its command is missing: a machine may already
# have a newer Node.js (with npm) than Debian's, which must not be replaced.
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
missing=""
need gcc build-essential
need make build-essential
need clang clang
need dpkg-source dpkg-dev
need emcc emscripten
need node nodejs
need npm npm
need chromium chromium
need pkg-config pkg-config
need curl curl          # scripts/fetch-cifar10.sh, where the machine is online
if [ -n "$missing" ] || [ -z "$(apt-cache showsrc cjson 2>/dev/null | head -1)" ]; then
  apt-get update -q
fi
if [ -n "$missing" ]; then
  apt-get install -y -q --no-install-recommends ca-certificates $missing
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Node.js: at least package.json's "engines" (Debian 12's own nodejs, 18.20.4,
# is enough; so is a newer one already here). An older one is named, with why.
node_min=$(sed -n 's/^ *"node": ">=\([0-9.]*\)".*/\1/p' package.json 2>/dev/null || true)
node_bin=$(command -v node || echo node)
node_ver=$(node -p process.versions.node 2>/dev/null || true)
if [ -z "$node_ver" ]; then
  echo "setup-debian: $node_bin does not run (node -p process.versions.node failed); reinstall Debian's nodejs: apt-get install --reinstall nodejs" >&2
  exit 1
fi
if [ -n "$node_min" ] && [ "$(printf '%s\n' "$node_min" "$node_ver" | sort -V | head -1)" != "$node_min" ]; then
  echo "setup-debian: Node.js $node_ver at $node_bin is older than the $node_min unravel is tested with" \
       "(package.json \"engines\"; playwright-core, which drives Chromium in the page's tests, refuses anything" \
       "before 18). Debian 12's own nodejs (18.20.4: apt-get install nodejs) is new enough, or put a newer" \
       "Node.js first on PATH." >&2
  exit 1
fi

scripts/fetch-cjson.sh
if [ -f package.json ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
echo "setup-debian: ready"
