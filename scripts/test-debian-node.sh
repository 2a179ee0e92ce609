#!/usr/bin/env bash
# The Node test suite (make test-node's tests) and a browser smoke test under
# Debian 12's own Node.js (18.x), whichever `node` this machine has on PATH.
#   bash scripts/test-debian-node.sh [--no-e2e]
# Debian's nodejs and libnode packages are fetched with apt-get download and
# unpacked (dpkg -x) into build/debian-node/VERSION/, never installed, so the
# system's Node.js stays as it is. What that node loads from the system is
# installed through apt where missing (root only; otherwise it is named): the
# shared libraries libnode depends on, and the JS files Debian's node reads
# from /usr/share/nodejs at start (node-acorn, node-cjs-module-lexer,
# node-undici). DEBIAN_NODE_VERSION picks another version of Debian's nodejs.
# .ci/run runs it after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
e2e=1
case "${1:-}" in
  --no-e2e) e2e=0 ;;
  "") ;;
  *) echo "usage: bash scripts/test-debian-node.sh [--no-e2e]" >&2; exit 2 ;;
esac
say() { echo "test-debian-node: $*" >&2; }
die() { say "$*"; exit 1; }
root_user=0; [ "$(id -u)" = 0 ] && root_user=1
export DEBIAN_FRONTEND=noninteractive

# Debian's own builds carry +dfsg in their version (nodesource's do not).
debian_versions() { apt-cache madison nodejs 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -F '+dfsg' | sort -uV; }
ver=${DEBIAN_NODE_VERSION:-$(debian_versions | tail -1)}
if [ -z "$ver" ] && [ "$root_user" = 1 ]; then apt-get update -q >/dev/null; ver=$(debian_versions | tail -1); fi
[ -n "$ver" ] || die "apt knows no Debian nodejs (apt-cache madison nodejs lists no +dfsg version); is a Debian 12 mirror in /etc/apt/sources.list*?"
libnode=$(apt-cache show "nodejs=$ver" 2>/dev/null | sed -n 's/^Depends:.*\(libnode[0-9]*\) (= .*/\1/p' | head -1)
[ -n "$libnode" ] || die "apt-cache show nodejs=$ver names no libnode package"

# What libnode needs from the system: its Depends, first alternatives, no versions.
deps=$(apt-cache show "$libnode=$ver" | sed -n 's/^Depends: //p' | head -1 | tr ',' '\n' |
       sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | grep -v '^$')
missing=""
for p in $deps; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ "$root_user" = 1 ] || die "Debian's node $ver needs these packages, not installed here:$missing (as root: apt-get install --no-install-recommends$missing)"
  say "installing what Debian's node needs from the system:$missing"
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

installed=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)
if [ "$installed" = "$ver" ] && [ "$(command -v node)" = /usr/bin/node ]; then
  say "node on PATH is Debian's nodejs $ver already"
  nodebin=/usr/bin/node
else
  dest=build/debian-node/$ver
  if [ ! -x "$dest/root/usr/bin/node" ]; then
    rm -rf "$dest" && mkdir -p "$dest/debs"
    say "fetching Debian's nodejs $ver and $libnode (apt-get download; unpacked in $dest, not installed)"
    sandbox=(); [ "$root_user" = 1 ] && sandbox=(-o APT::Sandbox::User=root)
    fetch() { (cd "$dest/debs" && apt-get download -q "${sandbox[@]}" "nodejs=$ver" "$libnode=$ver" >/dev/null); }
    if ! fetch; then
      [ "$root_user" = 1 ] || die "apt-get download nodejs=$ver $libnode=$ver failed"
      apt-get update -q >/dev/null && fetch || die "apt-get download nodejs=$ver $libnode=$ver failed"
    fi
    for deb in "$dest"/debs/*.deb; do dpkg -x "$deb" "$dest/root"; done
  fi
  nodebin=$PWD/$dest/root/usr/bin/node
  libdir=$(dirname "$(find "$PWD/$dest/root/usr/lib" -name 'libnode.so.*' | head -1)")
  # The tests start node again by name and as process.execPath: both must
  # find libnode, so the library path is the whole run's.
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -e "$dest/bin/node" ] || { mkdir -p "$dest/bin" && ln -sfn ../root/usr/bin/node "$dest/bin/node"; }
  export PATH="$PWD/$dest/bin:$PATH"
fi
got=$(node -p process.versions.node) || die "Debian's node $ver does not start (see above)"
[ "$(command -v node)" -ef "$nodebin" ] || die "node on PATH is $(command -v node), not $nodebin"
say "Node.js $got ($nodebin)"

if [ -d node_modules/playwright-core ]; then
  node -e "require('playwright-core')" >/dev/null ||
    die "playwright-core $(node -p "require('./node_modules/playwright-core/package.json').version") does not load on Node.js $got (its \"engines\": $(node -p "require('./node_modules/playwright-core/package.json').engines.node")); 1.61.1 is the last that runs on Node 18"
fi

make NODE=node test-node

if [ "$e2e" = 1 ]; then
  node --test --test-reporter=tap tests/e2e/web-units.test.mjs
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  smoke=('the page loads the model and shows a live test error, with no console errors'
         'deleting a block updates the plan, the URL and the error')
  pattern=$(printf '%s|' "${smoke[@]}"); pattern=${pattern%|}
  node --test --test-reporter=tap --test-name-pattern="$pattern" tests/e2e/page.test.mjs | tee "$log"
  for name in "${smoke[@]}"; do
    grep -qxE "ok [0-9]+ - $name" "$log" ||
      die "the browser smoke test did not pass: \"$name\" (a skip says why above; --no-e2e leaves it out)"
  done
fi
say "passed with Node.js $got in ${SECONDS}s"
