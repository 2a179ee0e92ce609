#!/usr/bin/env bash
# make install into a temporary prefix (with DESTDIR, as a packager would),
# then build a small C program against it through pkg-config, statically and
# shared, beside a cJSON_* symbol of its own: the library must not export any.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/unravel-test
make -s -C "$root" install PREFIX="$prefix" DESTDIR="$tmp/stage" >/dev/null
inst="$tmp/stage$prefix"
for f in bin/unravel include/unravel/unravel.h lib/libunravel.a lib/libunravel.so lib/pkgconfig/unravel.pc; do
  [ -e "$inst/$f" ] || { echo "check-install: $f was not installed" >&2; exit 1; }
done
fail() { echo "check-install: $*" >&2; exit 1; }
if nm -g --defined-only "$inst/lib/libunravel.a" | grep -q ' cJSON'; then fail "libunravel.a exports cJSON symbols"; fi
if nm -D --defined-only "$inst/lib/libunravel.so" | awk '{print $3}' | grep -v '^unr_' | grep -q .; then
  fail "libunravel.so exports symbols other than unr_*"; fi
# pkg-config reads the prefix from the .pc; point it at the staged tree.
# The .pc names this install's prefix, whatever an earlier install used.
grep -qx "prefix=$prefix" "$inst/lib/pkgconfig/unravel.pc" || fail "unravel.pc does not say prefix=$prefix"
make -s -C "$root" install PREFIX=/opt/other DESTDIR="$tmp/other" >/dev/null
grep -qx "prefix=/opt/other" "$tmp/other/opt/other/lib/pkgconfig/unravel.pc" || fail "a second install kept the first one's prefix"
export PKG_CONFIG_PATH="$inst/lib/pkgconfig"
pc() { pkg-config --define-variable=prefix="$inst" "$@" unravel; }
[ "$(pc --modversion)" = "$("$inst/bin/unravel" --version | awk '{print $2}')" ] || fail "unravel.pc's version differs from the CLI's"
cat > "$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <unravel.h>
/* A program that also has a cJSON of its own must link without clashes. */
const char *cJSON_Version(void) { return "the program's own"; }
int main(int argc, char **argv) {
    (void)argc;
    unr_model *m = NULL;
    unr_runner *r = NULL;
    unr_error err = {0};
    if (unr_model_load_file(argv[1], &m, &err) != UNR_OK ||
        unr_runner_create(m, 1, 1, UNR_ISA_AUTO, &r, &err) != UNR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    unr_plan *plan = unr_plan_create(m);
    unsigned char grey[3072];
    float logits[10];
    memset(grey, 128, sizeof grey);
    if (unr_forward_pixels(r, plan, grey, 1, logits, &err) != UNR_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
    int best = 0;
    for (int c = 1; c < 10; c++) if (logits[c] > logits[best]) best = c;
    printf("%s %d blocks class %d %s\n", UNR_VERSION_STRING, unr_model_num_blocks(m), best, cJSON_Version());
    unr_plan_free(plan);
    unr_runner_free(r);
    unr_model_free(m);
    return 0;
}
C
cc -std=c11 $(pc --cflags) "$tmp/hello.c" -o "$tmp/hello-static" $(pc --libs --static | sed 's/-lunravel/-l:libunravel.a/')
cc -std=c11 $(pc --cflags) "$tmp/hello.c" -o "$tmp/hello-shared" $(pc --libs)
# The same answer as the CLI's for the same grey image.
version=$(sed -n 's/^#define UNR_VERSION_STRING "\(.*\)"/\1/p' "$root/c/unravel.h")
for v in static shared; do
  got=$(LD_LIBRARY_PATH="$inst/lib" "$tmp/hello-$v" "$root/models/resnet20.json")
  case "$got" in
    "$version 9 blocks class "[0-9]" the program's own") ;;
    *) fail "hello-$v printed '$got'" ;;
  esac
  echo "$got"
done
[ "$(LD_LIBRARY_PATH="$inst/lib" "$tmp/hello-static" "$root/models/resnet20.json")" = \
  "$(LD_LIBRARY_PATH="$inst/lib" "$tmp/hello-shared" "$root/models/resnet20.json")" ] || fail "static and shared builds disagree"
echo "check-install: ok (static and shared, through pkg-config, no cJSON symbols exported)"
