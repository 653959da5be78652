# Makefile: builds bin/tandem-server, bin/tandem-backup and the Check unit
# tests, and runs every test. `make run` and `make test` first install what
# is missing (tools/install-deps.sh). `make SANITIZE=address,undefined`
# builds with ASan and UBSan into build/san/ (libc malloc there: jemalloc and
# ASan both want to own malloc); the default build goes to build/release/.
# `make fuzz` builds the libFuzzer targets of tests/fuzz/ with clang into
# build/fuzz/ and runs each for FUZZ_SECONDS (docs/fuzzing.md). `make
# valgrind` runs the unit tests under valgrind, built with libc malloc into
# build/vg/.

SANITIZE ?=
FUZZ ?=
VALGRIND ?=
CC := gcc
PYTHON := /usr/bin/python3
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 20
# Parallel jobs for the builds that `make test` runs (the tests themselves
# run one suite at a time, or on PYTEST_JOBS workers).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

ifneq ($(FUZZ),)
VARIANT := fuzz
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ALLOC_PKG :=
ALLOC_DEF := -DTANDEM_NO_JEMALLOC
else ifneq ($(VALGRIND),)
VARIANT := vg
SANFLAGS :=
ALLOC_PKG :=
ALLOC_DEF := -DTANDEM_NO_JEMALLOC
else ifeq ($(SANITIZE),)
VARIANT := release
SANFLAGS :=
ALLOC_PKG := jemalloc
ALLOC_DEF :=
else
VARIANT := san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALLOC_PKG :=
ALLOC_DEF := -DTANDEM_NO_JEMALLOC
endif

B := build/$(VARIANT)
# Deferred (=) so that pkg-config runs after install-deps has run.
PKG_CFLAGS = $(shell pkg-config --cflags $(ALLOC_PKG) openssl)
PKG_LIBS = $(shell pkg-config --libs $(ALLOC_PKG) openssl)
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -MMD -MP $(SANFLAGS) $(ALLOC_DEF) $(PKG_CFLAGS)
LDFLAGS = $(SANFLAGS) -rdynamic
LDLIBS = $(PKG_LIBS) -lm -lpthread

LIB_SRC := $(filter-out core/main.c,$(wildcard core/*.c net/*.c rdb/*.c repl/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIB := $(B)/libtandem.a

BACKUP_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard tools/backup/*.c))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FAKE_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/fake/*.c))

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

.SECONDARY:
.PHONY: all deps run test test-unit test-unit-san test-integration test-integration-san bench check \
	clean FORCE fuzz fuzz-ci fuzz-build fuzz-bins valgrind valgrind-run unit-bins
.DEFAULT_GOAL := all

all: bin/tandem-server bin/tandem-backup

deps:
	@tools/install-deps.sh

$(B)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/tests/unit/fake/%.o: tests/unit/fake/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/tandem-server: $(B)/core/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tandem-backup: $(BACKUP_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The binaries of whichever variant was built last are the ones in bin/.
bin/%: $(B)/% FORCE
	@mkdir -p bin
	@cmp -s $< $@ || { cp $< $@.tmp && mv -f $@.tmp $@; }

$(B)/tests/%: tests/unit/%.c $(FAKE_OBJ) $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(FAKE_OBJ) $(LIB) $(LDLIBS) $(CHECK_LIBS)

# tandem-backup's leaf parts are unit-tested like the library's leaves.
$(B)/tests/test_backup: tests/unit/test_backup.c $(patsubst %,$(B)/tools/backup/%.o,check follow wire) $(FAKE_OBJ) $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LIB) $(LDLIBS) $(CHECK_LIBS)

# Fuzz targets (FUZZ=1 only): libFuzzer's main, the project's library.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

fuzz-build:
	$(MAKE) -j$(JOBS) FUZZ=1 fuzz-bins

fuzz-bins: $(FUZZ_BIN)

fuzz: fuzz-build
	tools/fuzz-run.sh $(FUZZ_SECONDS)

fuzz-ci: fuzz-build
	tools/fuzz-run.sh $(FUZZ_CI_SECONDS)

# The unit tests under valgrind (tools/valgrind-run.sh), built
# without sanitizers and with libc malloc so that valgrind sees every block.
valgrind:
	$(MAKE) VALGRIND=1 valgrind-run

valgrind-run: $(UNIT_BIN) $(B)/tandem-backup
	$(MAKE) bin/tandem-server VALGRIND=
	BACKUP_BIN=$(B)/tandem-backup tools/valgrind-run.sh $(UNIT_BIN)

unit-bins: $(UNIT_BIN)

test-unit:
	$(MAKE) -j$(JOBS) unit-bins
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; CK_DEFAULT_TIMEOUT=60 $$t || fail=1; done; exit $$fail

test-unit-san:
	$(MAKE) SANITIZE=address,undefined test-unit

# The integration tests mostly wait on servers: two pytest workers
# (python3-pytest-xdist) halve the wall time on two cores.
PYTEST_JOBS ?= 2
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider -n $(PYTEST_JOBS)

test-integration: all
	cd tests/integration && $(PYTEST) .

# A fast subset of the integration tests against the ASan+UBSan binaries: a
# sanitizer report on a server's stderr fails the test (conftest.py). Leaks
# at exit are the unit tests' business (make valgrind), not the server's.
SAN_INTEGRATION := test_basic.py test_protocol.py test_strings.py test_multi.py test_psync.py \
	test_repl_chain.py test_wait.py test_diskless.py test_tls.py test_backup.py \
	test_diskless_load.py
test-integration-san:
	$(MAKE) -j$(JOBS) SANITIZE=address,undefined build/san/tandem-server build/san/tandem-backup
	cd tests/integration && ASAN_OPTIONS=detect_leaks=0 \
	  TANDEM_SERVER_BIN=$(CURDIR)/build/san/tandem-server \
	  TANDEM_BACKUP_BIN=$(CURDIR)/build/san/tandem-backup \
	  $(PYTEST) $(SAN_INTEGRATION)

test:
	$(MAKE) -j$(JOBS) all
	tools/check-deps.sh
	$(MAKE) test-unit
	$(MAKE) test-unit-san
	$(MAKE) fuzz-ci
	$(MAKE) test-integration
	$(MAKE) test-integration-san

check:
	tools/check-deps.sh

run: all
	tools/run-pair.sh

bench: all
	tools/bench/throughput.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
