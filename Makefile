# paasctl build. `make` builds ./paasctl; `make check` builds an ASan/UBSan
# test build under build/test/ and runs every test (tests/run prints the
# closing "N passed, N failed" line). New .c files are picked up by wildcard.

CC      ?= cc
PKGS    := libcurl libxml-2.0 libcrypto inih jansson yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
           -Wformat=2 -Wvla -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) -D_FORTIFY_SOURCE=2 \
           -fstack-protector-strong -I. $(PKG_CFLAGS) $(CFLAGS)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard core/*.c aws/*.c k8s/*.c plans/*.c) $(filter-out cmd/paasctl.c,$(wildcard cmd/*.c))
MAIN_SRC := cmd/paasctl.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HDRS    := $(wildcard core/*.h aws/*.h k8s/*.h plans/*.h cmd/*.h tests/unit/*.h)

REL_OBJ  := $(LIB_SRC:%.c=build/rel/%.o)
TEST_OBJ := $(LIB_SRC:%.c=build/test/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/test/unit/%)
# Test-only driver programs (tests/unit/NAME_main.c -> build/test/probe/NAME)
# that the end-to-end tests run to reach library calls no command exposes.
PROBE_SRC := $(wildcard tests/unit/*_main.c)
PROBE_BIN := $(PROBE_SRC:tests/unit/%_main.c=build/test/probe/%)

# Fuzz targets (tests/fuzz/fuzz_NAME.c -> build/fuzz/NAME): the pure parsers
# under libFuzzer with ASan/UBSan, built by clang from their own objects.
FUZZ_CC  := clang
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=build/fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_FLAGS := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -I. $(PKG_CFLAGS) \
           -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined

# Only pattern rules name these, so make would delete them as intermediate
# after each build (and print that after the test summary): keep them.
.SECONDARY: $(FUZZ_OBJ)

build/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

# FUZZ_SECONDS per target (make check runs each for a few seconds).
fuzz: $(FUZZ_BIN)
	@FUZZ_DIR=$(CURDIR)/build/fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run

# plans/bootstrap.c embeds these with .incbin: rebuild it when one changes.
BOOTSTRAP := $(wildcard scripts/bootstrap/*)
build/rel/plans/bootstrap.o build/test/plans/bootstrap.o: $(BOOTSTRAP)

.PHONY: all check unit demo clean lint bench fuzz
all: paasctl

paasctl: $(REL_OBJ) build/rel/cmd/paasctl.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/test/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

build/test/paasctl: $(TEST_OBJ) build/test/cmd/paasctl.o
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS)

build/test/unit/%: tests/unit/%.c $(TEST_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

build/test/probe/%: tests/unit/%_main.c $(TEST_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

unit: $(UNIT_BIN) $(PROBE_BIN) build/test/paasctl

# Every test: unit binaries, then end-to-end scripts against real servers.
check: unit paasctl $(FUZZ_BIN)
	@PAASCTL=$(CURDIR)/build/test/paasctl PAASCTL_REL=$(CURDIR)/paasctl \
	  UNIT_DIR=$(CURDIR)/build/test/unit PROBE_DIR=$(CURDIR)/build/test/probe \
	  FUZZ_DIR=$(CURDIR)/build/fuzz tests/run

demo: paasctl
	@scripts/demo

bench: paasctl
	@PAASCTL=$(CURDIR)/paasctl tests/bench/run
	@PAASCTL=$(CURDIR)/paasctl tests/bench/cutover
	@PAASCTL=$(CURDIR)/paasctl tests/bench/migrate

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 -I. core aws k8s plans cmd

clean:
	rm -rf build paasctl
