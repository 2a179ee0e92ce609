#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets in tests/fuzz/ (model loader, CIFAR-10
# reader, plan parser, PyTorch checkpoint importer) with clang + ASan + UBSan, and run each one.
#
# How to run (from anywhere; `make deps` first so build/deps/cjson exists):
#     scripts/fuzz.sh                      # every target, 60 s each
#     FUZZ_SECONDS=600 scripts/fuzz.sh model   # one target, 10 minutes
#     CC=clang-15 scripts/fuzz.sh          # another clang
# Targets: model, cifar, plan, checkpoint. Needs clang with libFuzzer (Debian: clang).
#
# Seeds are made fresh from tiny valid models (tests/fuzz/make_seeds.c) into
# build/fuzz/seeds/; the growing corpus lives in build/fuzz/corpus/ and
# persists between runs. Nothing here is committed but the regressions.
#
# When a target finds a crash, leak or timeout, its input is written to
# build/fuzz/artifacts/TARGET-crash-*, the script says so and exits 1. Fix
# the bug, then keep the input as tests/fuzz/regressions/TARGET-SHORTNAME
# (prefix model-, cifar-, plan- or checkpoint-): tests/c/test_model.c replays every file
# there through the same code (tests/fuzz/fuzz_inputs.h) under make test-c
# and make test-asan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CC=${CC:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model cifar plan checkpoint)
out=build/fuzz
cjson=build/deps/cjson

[ -f "$cjson/cJSON.c" ] || scripts/fetch-cjson.sh
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (install clang)" >&2; exit 1; }

std="-std=c11 -D_POSIX_C_SOURCE=200809L"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-g -O1 $std -Ic -Ic/kernels -I$cjson"

# ---- the library, instrumented for coverage (no main) ----
mkdir -p "$out/obj" "$out/artifacts"
objs=()
for src in c/*.c c/kernels/*.c "$cjson/cJSON.c"; do
  case "$src" in c/wasm_api.c) continue ;; esac
  isa=""
  case "$(basename "$src")" in *avx2*) isa="-mavx2 -mfma" ;; esac
  obj="$out/obj/$(echo "${src%.c}" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find c -name '*.h' -newer "$obj" -print -quit)" ]; then
    $CC $cflags $san -fsanitize=fuzzer-no-link $isa -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done

# ---- seeds ----
$CC $cflags $san tests/fuzz/make_seeds.c "${objs[@]}" -lpthread -lm -o "$out/make_seeds"
rm -rf "$out/seeds"
"$out/make_seeds" "$out/seeds"
for t in model cifar plan checkpoint; do
  # Past findings seed their own target too.
  for f in tests/fuzz/regressions/"$t"-*; do [ -f "$f" ] && cp "$f" "$out/seeds/$t/"; done
done

# ---- build and run each target ----
status=0
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (model, cifar, plan, checkpoint)" >&2; exit 2; }
  $CC $cflags $san -fsanitize=fuzzer -Itests/fuzz "tests/fuzz/fuzz_$t.c" "${objs[@]}" \
      -lpthread -lm -o "$out/fuzz_$t"
  mkdir -p "$out/corpus/$t"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz_$t for ${FUZZ_SECONDS}s"
  log="$out/fuzz_$t.log"
  if "$out/fuzz_$t" "$out/corpus/$t" "$out/seeds/$t" "${dict[@]}" \
       -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
    echo "   corpus: $(ls "$out/corpus/$t" | wc -l) inputs; log: $log"
  else
    status=1
    tail -n 40 "$log"
    echo "fuzz_$t FAILED: see $log and $out/artifacts/$t-*" >&2
  fi
done
exit $status
