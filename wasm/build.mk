# wasm/build.mk: the WebAssembly build, included by the top-level Makefile.
#
#   make wasm           wasm/unravel.wasm (SIMD128) + a copy at web/unravel.wasm
#   make wasm-scalar    build/wasm/unravel-scalar.wasm (no SIMD), for parity and bench
#
# A standalone module (-sSTANDALONE_WASM, no Emscripten JS glue): our own
# wasm/unravel.mjs instantiates it and supplies the few WASI imports it has.
# File IO, the trainer and the CLI stay native-only; AVX2 kernels are x86-only.

EMCC        ?= emcc
# Emscripten's JS optimizer (run at -O2 and up) needs Debian's node modules.
EMCC_ENV    := NODE_PATH=$(or $(NODE_PATH),/usr/share/nodejs)
# Native only: model_io.c reads and writes files, the trainer writes models.
WASM_NATIVE_ONLY := c/model_io.c c/trainer.c c/train.c c/train_ops.c
WASM_CORE   := $(filter-out $(WASM_NATIVE_ONLY),$(wildcard c/*.c)) \
               $(filter-out %avx2.c,$(wildcard c/kernels/*.c))
WASM_HDRS   := $(wildcard c/*.h c/kernels/*.h)
# Memory grows on demand up to 2 GiB: a batch-100 runner needs ~30 MB, the
# CIFAR training set 150 MB.
WASM_EXPORTS := malloc free \
  unr_wasm_version unr_wasm_best_isa unr_wasm_isa_name unr_wasm_isa_available \
  unr_wasm_error_new unr_wasm_error_free unr_wasm_error_status unr_wasm_error_message \
  unr_wasm_status_name \
  unr_wasm_model_load unr_wasm_model_free unr_wasm_model_num_blocks unr_wasm_model_info \
  unr_wasm_model_import_checkpoint unr_wasm_model_serialize \
  unr_wasm_plan_create unr_wasm_plan_free unr_wasm_plan_order unr_wasm_plan_deleted \
  unr_wasm_plan_reset unr_wasm_plan_validate \
  unr_wasm_runner_create unr_wasm_runner_free unr_wasm_runner_isa \
  unr_wasm_runner_set_chunk unr_wasm_runner_get_chunk \
  unr_wasm_cifar_load unr_wasm_cifar_free unr_wasm_cifar_n unr_wasm_cifar_labels \
  unr_wasm_cifar_pixels \
  unr_wasm_evaluate unr_wasm_forward \
  unr_wasm_lesion_batch unr_wasm_max_deletions unr_wasm_max_swaps unr_wasm_draw_plan unr_wasm_random_batch \
  unr_wasm_paths_sample unr_wasm_path_distribution unr_wasm_effective_window \
  unr_wasm_window_bootstrap unr_wasm_experiments_json \
  unr_wasm_summarize unr_wasm_paired_ci95 unr_wasm_kendall_tau
comma := ,
empty :=
space := $(empty) $(empty)
WASM_CFLAGS := -std=c11 -O3 -DNDEBUG $(WARN) $(INC)
WASM_LDFLAGS := -O3 -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 \
               -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=2GB -sTOTAL_STACK=1MB --js-library wasm/imports.js \
               -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(patsubst %,_%,$(WASM_EXPORTS)))

WASM_SIMD_OBJ   := $(patsubst %.c,build/wasm/simd/%.o,$(WASM_CORE)) build/wasm/simd/cjson.o
WASM_SCALAR_OBJ := $(patsubst %.c,build/wasm/scalar/%.o,$(WASM_CORE)) build/wasm/scalar/cjson.o

.PHONY: wasm wasm-scalar
wasm: wasm/unravel.wasm web/unravel.wasm
wasm-scalar: build/wasm/unravel-scalar.wasm

build/wasm/simd/%.o: %.c $(CJSON)/cJSON.c $(WASM_HDRS)
	@mkdir -p $(dir $@)
	$(EMCC) $(WASM_CFLAGS) -msimd128 -c $< -o $@
build/wasm/scalar/%.o: %.c $(CJSON)/cJSON.c $(WASM_HDRS)
	@mkdir -p $(dir $@)
	$(EMCC) $(WASM_CFLAGS) -c $< -o $@
build/wasm/simd/cjson.o: $(CJSON)/cJSON.c
	@mkdir -p $(dir $@)
	$(EMCC) -std=c11 -O3 -msimd128 -I$(CJSON) -c $< -o $@
build/wasm/scalar/cjson.o: $(CJSON)/cJSON.c
	@mkdir -p $(dir $@)
	$(EMCC) -std=c11 -O3 -I$(CJSON) -c $< -o $@

wasm/unravel.wasm: $(WASM_SIMD_OBJ) wasm/build.mk wasm/imports.js
	$(EMCC_ENV) $(EMCC) $(WASM_LDFLAGS) -msimd128 $(WASM_SIMD_OBJ) -o $@
	@size=$$(wc -c < $@); echo "wasm: $@ is $$size bytes"; \
	  [ $$size -le 307200 ] || { echo "wasm: $@ is over the 300 KB budget" >&2; rm -f $@; exit 1; }

web/unravel.wasm: wasm/unravel.wasm
	@mkdir -p web
	cp $< $@

build/wasm/unravel-scalar.wasm: $(WASM_SCALAR_OBJ) wasm/build.mk wasm/imports.js
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_LDFLAGS) $(WASM_SCALAR_OBJ) -o $@

# The kernel tests as a WASI program, so the SIMD128 micro-kernels (and the
# Winograd path) are held to the scalar reference inside WebAssembly too;
# tests/wasm-kernels.test.mjs runs it under node:wasi (tests/wasi/run.mjs).
WASM_KERNEL_SRC := $(wildcard c/kernels/*.c)
build/wasm/test_kernels.wasm: tests/c/test_kernels.c $(filter-out %avx2.c,$(WASM_KERNEL_SRC)) $(WASM_HDRS)
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) -std=c11 -O2 -msimd128 $(WARN) $(INC) -sSTANDALONE_WASM \
	  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=32MB \
	  tests/c/test_kernels.c $(filter-out %avx2.c,$(WASM_KERNEL_SRC)) -o $@
