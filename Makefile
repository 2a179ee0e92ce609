# unravel: native CLI, WASM module, tests.  `make help` lists the targets.

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L
CJSON   := build/deps/cjson
INC     := -Ic -Ic/kernels -I$(CJSON)
LDLIBS  := -lpthread -lm
NODE    ?= node

LIB_SRC := $(filter-out c/wasm_api.c,$(wildcard c/*.c)) $(wildcard c/kernels/*.c)
CLI_SRC := $(wildcard c/cli/*.c)
TEST_SRC := $(wildcard tests/c/test_*.c)
TESTS   := $(patsubst tests/c/%.c,build/tests/%,$(TEST_SRC))
ASAN_TESTS := $(patsubst tests/c/%.c,build/asan/tests/%,$(TEST_SRC))

# Everything is baseline x86-64: the AVX2 kernels carry target("avx2,fma")
# attributes and are picked at run time only on CPUs that have them.

.PHONY: data test-data all native test test-c test-asan test-node test-e2e deps clean help fuzz serve bench site
all: native wasm

native: build/unravel

help:
	@echo "make            build the native CLI (build/unravel)"
	@echo "make wasm       build wasm/unravel.wasm (Emscripten, SIMD128)"
	@echo "make serve      build, then serve the explorer at http://localhost:8000/"
	@echo "make site       build, then write dist/: the page, wasm, models, 1,000 test records, for any static host"
	@echo "make test       C unit tests, the same under ASan+UBSan, node --test, and the page in headless Chromium"
	@echo "make bench      every benchmark against its peer, in turn (writes bench/results.md; tens of minutes)"
	@echo "make fuzz       libFuzzer runs on the model loader, CIFAR reader, plan parser and checkpoint importer (FUZZ_SECONDS=60)"
	@echo "make clean      remove build/"

# Every benchmark in bench/, each against its named peer (docs/PERFORMANCE.md).
bench: build/unravel wasm
	bench/native-inference
	bench/native-train
	$(NODE) bench/wasm-vs-tfjs.mjs
	$(NODE) bench/wasm-random-curves.mjs

deps: $(CJSON)/cJSON.c
$(CJSON)/cJSON.c:
	scripts/fetch-cjson.sh

include wasm/build.mk

# ---- native library ----
build/obj/%.o: %.c $(CJSON)/cJSON.c $(wildcard c/*.h c/kernels/*.h c/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(INC) -c $< -o $@

build/obj/cjson.o: $(CJSON)/cJSON.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) -I$(CJSON) -c $< -o $@

# The library is one relocatable object with cJSON linked in and its symbols
# made local, so a program that also links a system libcjson sees no clash:
# only unr_* is exported. The CLI and tests use cJSON themselves: they link
# their own copy (build/obj/cjson.o).
LIB_OBJ := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
build/obj/unravel-lib.o: $(LIB_OBJ) build/obj/cjson.o
	$(LD) -r -o $@ $^
	objcopy --wildcard --localize-symbol='cJSON*' $@

build/libunravel.a: build/obj/unravel-lib.o
	rm -f $@ && ar rcs $@ $^

build/unravel: $(patsubst %.c,build/obj/%.o,$(CLI_SRC)) build/obj/cjson.o build/libunravel.a
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The shared library: position-independent objects of the same sources, and
# a version script that exports unr_* only.
SOVERSION := 0
VERSION := $(shell sed -n 's/^\#define UNR_VERSION_STRING "\(.*\)"/\1/p' c/unravel.h)
build/pic/obj/%.o: %.c $(CJSON)/cJSON.c $(wildcard c/*.h c/kernels/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) -fPIC -fvisibility=default $(WARN) $(INC) -c $< -o $@

build/pic/obj/cjson.o: $(CJSON)/cJSON.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) -fPIC -I$(CJSON) -c $< -o $@

build/libunravel.so.$(VERSION): $(patsubst %.c,build/pic/obj/%.o,$(LIB_SRC)) build/pic/obj/cjson.o c/libunravel.map
	$(CC) -shared -Wl,-soname,libunravel.so.$(SOVERSION) -Wl,--version-script=c/libunravel.map \
	  $(filter %.o,$^) $(LDLIBS) -o $@

# ---- install: make install [PREFIX=/usr/local] [DESTDIR=] ----
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install uninstall test-install
# unravel.pc is written at install time: its prefix is this install's PREFIX.
install: build/unravel build/libunravel.a build/libunravel.so.$(VERSION)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/unravel/kernels $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 build/unravel $(DESTDIR)$(PREFIX)/bin/unravel
	install -m 644 c/unravel.h $(DESTDIR)$(PREFIX)/include/unravel/unravel.h
	install -m 644 c/kernels/kernels.h $(DESTDIR)$(PREFIX)/include/unravel/kernels/kernels.h
	install -m 644 build/libunravel.a $(DESTDIR)$(PREFIX)/lib/libunravel.a
	install -m 755 build/libunravel.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libunravel.so.$(VERSION)
	ln -sf libunravel.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libunravel.so.$(SOVERSION)
	ln -sf libunravel.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libunravel.so
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' 'libdir=$${prefix}/lib' '' \
	  'Name: unravel' 'Description: residual networks as ensembles of shallow paths: inference, lesions, paths (CIFAR ResNets)' \
	  'Version: $(VERSION)' 'Cflags: -I$${includedir}/unravel' 'Libs: -L$${libdir} -lunravel' 'Libs.private: -lpthread -lm' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/unravel.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/unravel.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/unravel $(DESTDIR)$(PREFIX)/lib/libunravel.a \
	  $(DESTDIR)$(PREFIX)/lib/libunravel.so* $(DESTDIR)$(PREFIX)/lib/pkgconfig/unravel.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/unravel

# Installs into a temporary prefix and builds a small C program against it
# through pkg-config, statically and shared (tests/install/check.sh).
test-install:
	tests/install/check.sh

# ---- sanitizer build of the same sources ----
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
build/asan/obj/%.o: %.c $(CJSON)/cJSON.c $(wildcard c/*.h c/kernels/*.h c/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) $(INC) -c $< -o $@

build/asan/obj/cjson.o: $(CJSON)/cJSON.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g $(SAN) -I$(CJSON) -c $< -o $@

build/asan/libunravel.a: $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC)) build/asan/obj/cjson.o
	rm -f $@ && ar rcs $@ $^

build/asan/unravel: $(patsubst %.c,build/asan/obj/%.o,$(CLI_SRC)) build/asan/libunravel.a
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

# ---- tests ----
build/tests/%: tests/c/%.c $(wildcard tests/c/*.h tests/fuzz/*.h) build/libunravel.a build/obj/cjson.o
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(INC) -Itests/c $< build/obj/cjson.o build/libunravel.a $(LDLIBS) -o $@

build/asan/tests/%: tests/c/%.c $(wildcard tests/c/*.h tests/fuzz/*.h) build/asan/libunravel.a
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) $(INC) -Itests/c $< build/asan/libunravel.a $(LDLIBS) -o $@

test: test-data test-c test-asan test-install test-node test-e2e

# The tests that need CIFAR-10 skip, saying why, where `make data` cannot get it.
test-data:
	@scripts/fetch-cifar10.sh || echo "test: no CIFAR-10 files; the tests that need them will skip" >&2

test-c: $(TESTS) build/unravel
	@fail=0; for t in $(TESTS); do echo "== $$t"; UNRAVEL_CLI=build/unravel $$t || fail=1; done; exit $$fail

test-asan: $(ASAN_TESTS) build/asan/unravel
	@fail=0; for t in $(ASAN_TESTS); do echo "== $$t"; UNRAVEL_CLI=build/asan/unravel $$t || fail=1; done; exit $$fail

test-node: build/unravel wasm build/wasm/test_kernels.wasm
	$(NODE) --test tests/*.test.mjs

# The page in headless Chromium (Debian's /usr/bin/chromium via playwright-core).
test-e2e: build/unravel wasm
	$(NODE) --test tests/e2e/

fuzz:
	scripts/fuzz.sh

# Random-weight "dev" models, so the page has something to run before (or
# beside) the trained models; never committed (.gitignore).
DEV_MODELS := models/dev-resnet20.json models/dev-plain20.json
models/dev-resnet20.json: | build/unravel
	build/unravel init --blocks-per-stage 3 --shortcut A --seed 1 --out models/dev-resnet20
models/dev-plain20.json: | build/unravel
	build/unravel init --blocks-per-stage 3 --shortcut none --seed 1 --out models/dev-plain20

# CIFAR-10 in $CIFAR10_DIR (default data/cifar10): found, linked to a copy
# already on this machine, or downloaded from its authors and MD5-checked
# where the machine is online (scripts/fetch-cifar10.sh).
data:
	scripts/fetch-cifar10.sh

serve: all $(DEV_MODELS)
	@scripts/fetch-cifar10.sh || echo "serve: no CIFAR-10 files; the page runs, but has no test images to show" >&2
	$(NODE) scripts/serve.mjs web

# The page as a static bundle for any static host (docs/PAGE.md, "Publishing the page").
site: all
	$(NODE) scripts/make-site.mjs --out dist

clean:
	rm -rf build
