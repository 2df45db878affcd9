# paasctl build. `make` builds ./paasctl and nothing else; `make check`
# builds an ASan/UBSan test build under build/test/ and runs every test
# (tests/run prints the closing "N passed, N failed" line); `make install`
# honours PREFIX and DESTDIR. New .c files in SRC_DIRS are picked up by
# wildcard; a new source folder is one more word in SRC_DIRS.
#
# Layout (each tree has its own objects, so `make -j` never has two rules
# writing one file):
#   build/rel/       release objects of ./paasctl
#   build/test/      ASan/UBSan objects, unit tests, probes, fuzz replayers
#   build/fuzz/      clang + libFuzzer objects and targets (make fuzz)

.DEFAULT_GOAL := all

SRC_DIRS := core aws k8s consul run plans cmd

CC      ?= cc
PKGS    := libcurl libxml-2.0 libcrypto inih jansson yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
           -Wformat=2 -Wvla -Wstrict-prototypes
CFLAGS  ?= -O2 -g
# -MMD -MP: each object also writes NAME.d listing the headers it read, so
# touching a header rebuilds only the objects that include it.
DEP_FLAGS := -MMD -MP
ALL_CPPFLAGS := -D_DEFAULT_SOURCE -D_FORTIFY_SOURCE=2 -I. $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS := -std=c11 $(WARN) -fstack-protector-strong $(CFLAGS)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LIBS    := $(PKG_LIBS) $(LDLIBS)

LIB_SRC := $(filter-out cmd/paasctl.c,$(wildcard $(addsuffix /*.c,$(SRC_DIRS))))
MAIN_SRC := cmd/paasctl.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)

REL_OBJ  := $(LIB_SRC:%.c=build/rel/%.o)
TEST_OBJ := $(LIB_SRC:%.c=build/test/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/test/unit/%)
# Test-only driver programs (tests/unit/NAME_main.c -> build/test/probe/NAME)
# that the end-to-end tests run to reach library calls no command exposes.
PROBE_SRC := $(wildcard tests/unit/*_main.c)
PROBE_BIN := $(PROBE_SRC:tests/unit/%_main.c=build/test/probe/%)

# ---- install ------------------------------------------------------------

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
# Generated from the dispatch table by paasctl itself (cmd/generate.c) and
# checked in; test_generated fails when a checked-in copy differs from what
# the table gives (run `make generated` and commit).
GENERATED := man/paasctl.1 scripts/completion/paasctl.bash scripts/completion/_paasctl
# man/NAME.SECTION.
MAN_PAGES := $(sort $(wildcard man/*.[1-9]) man/paasctl.1)

# ---- fuzz targets -------------------------------------------------------
#
# tests/fuzz/fuzz_NAME.c, each linked with only the modules it exercises
# (FUZZ_MODS_NAME, and what those call), in two builds:
#   build/fuzz/bin/NAME     clang + libFuzzer, for `make fuzz` (and a short
#                           run in `make check` when clang is there);
#   build/test/fuzz/NAME    gcc + tests/fuzz/replay.c, a plain main() that
#                           runs every file of tests/fuzz/corpus/NAME/
#                           through the target: `make check` always runs
#                           these, so the kept corpus is a regression test.
FUZZ_CC    := clang
HAVE_FUZZ_CC := $(shell command -v $(FUZZ_CC) >/dev/null 2>&1 && echo yes)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BASE  := core/err core/buf core/util core/env
FUZZ_MODS_aws_xml := aws/xml aws/transport aws/sigv4 aws/creds aws/endpoint core/http core/log
FUZZ_MODS_config := core/config
FUZZ_MODS_consul := consul/kv k8s/client k8s/kubeconfig k8s/exec core/http core/log
FUZZ_MODS_exec_credential := k8s/exec
FUZZ_MODS_kubeconfig := k8s/kubeconfig
FUZZ_MODS_kubeconfig_merge := k8s/kubeconfig_file k8s/kubeconfig
FUZZ_MODS_sigv4 := aws/sigv4
fuzz_mods = $(sort $(FUZZ_BASE) $(FUZZ_MODS_$(1)))

FUZZ_BIN    := $(FUZZ_NAMES:%=build/fuzz/bin/%)
REPLAY_BIN  := $(FUZZ_NAMES:%=build/test/fuzz/%)
FUZZ_FLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined

# ---- rules --------------------------------------------------------------

.PHONY: all check unit replay demo clean lint bench fuzz install uninstall generated
all: paasctl

paasctl: $(REL_OBJ) build/rel/cmd/paasctl.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(DEP_FLAGS) -c -o $@ $<

build/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -O1 $(SAN) $(DEP_FLAGS) -c -o $@ $<

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEP_FLAGS) -c -o $@ $<

# plans/bootstrap.c embeds these with .incbin, which -MMD cannot see.
BOOTSTRAP := $(wildcard scripts/bootstrap/*)
build/rel/plans/bootstrap.o build/test/plans/bootstrap.o: $(BOOTSTRAP)

build/test/paasctl: $(TEST_OBJ) build/test/cmd/paasctl.o
	$(CC) $(ALL_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LIBS)

build/test/unit/%: build/test/tests/unit/%.o $(TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LIBS)

build/test/probe/%: build/test/tests/unit/%_main.o $(TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LIBS)

# One link rule per fuzz target: its own object list is a prerequisite.
define FUZZ_RULES
build/fuzz/bin/$(1): build/fuzz/obj/tests/fuzz/fuzz_$(1).o $$(patsubst %,build/fuzz/obj/%.o,$$(call fuzz_mods,$(1)))
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_FLAGS) -fsanitize=fuzzer $$(LDFLAGS) -o $$@ $$^ $$(LIBS)

build/test/fuzz/$(1): build/test/tests/fuzz/replay.o build/test/tests/fuzz/fuzz_$(1).o \
                      $$(patsubst %,build/test/%.o,$$(call fuzz_mods,$(1)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(SAN) $$(LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULES,$(n))))

# Pattern-built objects that only link rules name would be deleted as
# intermediate (and make would say so after the test summary): keep them.
.SECONDARY:

unit: $(UNIT_BIN) $(PROBE_BIN) build/test/paasctl
replay: $(REPLAY_BIN)

# FUZZ_SECONDS per target (make check runs each for a few seconds).
fuzz: $(FUZZ_BIN)
	@FUZZ_DIR=$(CURDIR)/build/fuzz/bin FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run

# Every test: unit binaries, corpus replays, then end-to-end scripts against
# real servers, and a short libFuzzer run when clang is installed.
check: unit replay paasctl $(if $(HAVE_FUZZ_CC),$(FUZZ_BIN))
	@PAASCTL=$(CURDIR)/build/test/paasctl PAASCTL_REL=$(CURDIR)/paasctl \
	  UNIT_DIR=$(CURDIR)/build/test/unit PROBE_DIR=$(CURDIR)/build/test/probe \
	  REPLAY_DIR=$(CURDIR)/build/test/fuzz \
	  FUZZ_DIR=$(if $(HAVE_FUZZ_CC),$(CURDIR)/build/fuzz/bin) tests/run

demo: paasctl
	@scripts/demo

bench: paasctl
	@PAASCTL=$(CURDIR)/paasctl tests/bench/run
	@PAASCTL=$(CURDIR)/paasctl tests/bench/cutover
	@PAASCTL=$(CURDIR)/paasctl tests/bench/economy
	@PAASCTL=$(CURDIR)/paasctl tests/bench/migrate

generated: $(GENERATED)

man/paasctl.1: paasctl
	./paasctl --man >$@.tmp && mv $@.tmp $@

scripts/completion/paasctl.bash: paasctl
	./paasctl --completion bash >$@.tmp && mv $@.tmp $@

scripts/completion/_paasctl: paasctl
	./paasctl --completion zsh >$@.tmp && mv $@.tmp $@

install: paasctl $(GENERATED)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	$(INSTALL) -m 0755 paasctl $(DESTDIR)$(BINDIR)/paasctl
	$(INSTALL) -m 0644 scripts/completion/paasctl.bash $(DESTDIR)$(BASHCOMPDIR)/paasctl
	$(INSTALL) -m 0644 scripts/completion/_paasctl $(DESTDIR)$(ZSHCOMPDIR)/_paasctl
	@set -e; for m in $(MAN_PAGES); do \
	  d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
	  echo "$(INSTALL) -m 0644 $$m $$d/"; \
	  $(INSTALL) -d $$d; $(INSTALL) -m 0644 $$m $$d/; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/paasctl $(DESTDIR)$(BASHCOMPDIR)/paasctl \
	  $(DESTDIR)$(ZSHCOMPDIR)/_paasctl \
	  $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))

# clang-tidy (.clang-tidy) runs two processes at a time, one file each:
# clang-tidy 14 analysing several files in one process carries the valist
# checker's state from one file to the next and reports every va_list as
# uninitialised. It analyses without _FORTIFY_SOURCE, whose unoptimised
# glibc wrappers confuse the same checker.
LINT_SRC := $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
LINT_FLAGS := -D_DEFAULT_SOURCE -I. $(PKG_CFLAGS) -std=c11
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 -I. $(SRC_DIRS)
	printf '%s\n' $(LINT_SRC) | xargs -P2 -n1 sh -c \
	  'clang-tidy --quiet "$$@" -- $(LINT_FLAGS) 2>/dev/null' clang-tidy

clean:
	rm -rf build paasctl

-include $(shell find build -name '*.d' 2>/dev/null)
