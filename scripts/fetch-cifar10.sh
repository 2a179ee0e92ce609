#!/usr/bin/env bash
# Make sure the CIFAR-10 binary files are in $CIFAR10_DIR (default data/cifar10
# inside the repository). If they are there, say so and stop. If not, and a
# copy already sits on this machine ($CIFAR10_LOCAL, default ../shared/cifar10
# beside the repository, where a team may keep one), link data/cifar10 to it.
# Otherwise download the official archive from the dataset's authors, check
# its size and MD5 (the checksum they publish), and unpack the six .bin files
# and batches.meta.txt there.
#
#   scripts/fetch-cifar10.sh                       # $CIFAR10_DIR or data/cifar10
#   CIFAR10_DIR=/data/cifar10 scripts/fetch-cifar10.sh
#
# CIFAR10_URL, CIFAR10_MD5 and CIFAR10_BYTES override the source (tests use a
# local file:// archive); the defaults are the official ones.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CIFAR10_DIR:-$root/data/cifar10}
local_copy=${CIFAR10_LOCAL:-$root/../shared/cifar10}
url=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
md5=${CIFAR10_MD5:-c32a1d4ab5d03f1284b67883e8d87530}
bytes=${CIFAR10_BYTES:-170052171}
files="data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin"

say() { echo "fetch-cifar10: $*" >&2; }

# Present means: every file there with 10,000 records of 3073 bytes.
present() {
  for f in $files; do
    [ -f "$dir/$f" ] && [ "$(stat -c %s "$dir/$f")" = 30730000 ] || return 1
  done
}

if present; then
  say "CIFAR-10 is in $dir"
  exit 0
fi
# The default place, empty, and a complete copy on this machine: link to it
# (read-only use; nothing is written there).
# (An empty data/cifar10, left by a download that failed, counts as empty.)
empty() { [ ! -e "$1" ] || { [ -d "$1" ] && [ ! -L "$1" ] && [ -z "$(ls -A "$1")" ]; }; }
if [ -z "${CIFAR10_DIR:-}" ] && empty "$dir" && [ -d "$local_copy" ]; then
  target=$(cd "$local_copy" && pwd)
  want=$dir
  dir=$target
  if present; then
    mkdir -p "$(dirname "$want")"
    [ -d "$want" ] && rmdir "$want"
    ln -s "$target" "$want"
    say "CIFAR-10 is in $target; linked $want to it"
    exit 0
  fi
  dir=$want
fi
for f in $files; do
  if [ -e "$dir/$f" ] && [ "$(stat -c %s "$dir/$f")" != 30730000 ]; then
    say "$dir/$f: $(stat -c %s "$dir/$f") bytes, expected 30730000 (10,000 records of 3073); remove it to download again"
    exit 1
  fi
done

mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || {
  say "$dir is missing or not writable; set CIFAR10_DIR to a directory to download CIFAR-10 into"
  exit 1
}
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
archive=$tmp/cifar-10-binary.tar.gz
say "downloading $url"
if command -v curl >/dev/null; then
  curl -fL --retry 2 -o "$archive" "$url" || { say "download failed (offline?): $url"; exit 1; }
elif command -v wget >/dev/null; then
  wget -q -O "$archive" "$url" || { say "download failed (offline?): $url"; exit 1; }
else
  say "needs curl or wget to download $url"
  exit 1
fi
got_bytes=$(stat -c %s "$archive")
[ "$got_bytes" = "$bytes" ] || { say "$url: $got_bytes bytes, expected $bytes"; exit 1; }
got_md5=$(md5sum "$archive" | cut -d' ' -f1)
[ "$got_md5" = "$md5" ] || { say "$url: MD5 $got_md5, expected $md5"; exit 1; }

# Only the expected members, by name, into the temporary directory first.
members=""
for f in $files batches.meta.txt; do members="$members cifar-10-batches-bin/$f"; done
# shellcheck disable=SC2086
tar -xzf "$archive" -C "$tmp" --no-same-owner $members || { say "$archive: not the CIFAR-10 binary layout"; exit 1; }
for f in $files batches.meta.txt; do
  mv "$tmp/cifar-10-batches-bin/$f" "$dir/$f"
done
present || { say "unpacked files in $dir have the wrong sizes"; exit 1; }
say "CIFAR-10 (official, MD5 checked) is in $dir"
