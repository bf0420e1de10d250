# streamverify: GNU make build.
#
#   make            build/streamverify, build/libstreamverify.{a,so}
#   make check      every test suite (Check programs and CLI scripts)
#   make asan       the same tests built with ASan + UBSan (in build/asan)
#   make demo       build, generate example inputs, verify a good and a bad one
#   make install    PREFIX=/usr/local DESTDIR= (with man page and bash/zsh completion)
#   make clean
#
# Missing Debian packages are installed with apt-get when run as root;
# otherwise the exact apt-get line is printed and make stops.

BUILD     ?= build
PREFIX    ?= /usr/local
DESTDIR   ?=
DATA      := $(abspath tests/data)
SANITIZE  ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
PROTOC_C  ?= protoc-c

# Debian packages: what `make` needs, and what the tests need on top.
BUILD_PKGS := pkg-config protobuf-c-compiler libprotobuf-c-dev zlib1g-dev libjansson-dev libarchive-dev \
              libzstd-dev liblzma-dev libbz2-dev liblz4-dev libelf-dev
CHECK_PKGS := check binutils python3 jq

LIB_PCS   := libprotobuf-c zlib jansson libarchive liblz4 libelf

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wvla -Wpointer-arith
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
OPT       ?= -O2 -g
ifeq ($(SANITIZE),1)
OPT       := -O1 -g -fno-omit-frame-pointer
HARDEN    :=
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all
endif
ifeq ($(SANITIZE),fuzz)
OPT       := -O1 -g -fno-omit-frame-pointer
HARDEN    :=
SANFLAGS  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
endif

PC_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(LIB_PCS) 2>/dev/null)
PC_LIBS    = $(shell $(PKG_CONFIG) --libs $(LIB_PCS) 2>/dev/null)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

CPPFLAGS  += -D_GNU_SOURCE -Iinclude -Iverify -I$(BUILD)/proto -I.
CFLAGS    := -std=c11 $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) -fPIC $(CFLAGS)
LDFLAGS   += $(SANFLAGS) -Wl,-z,relro,-z,now

# ---- sources ---------------------------------------------------------------

CORE_SRCS   := $(filter-out verify/main.c,$(wildcard verify/*.c))
FORMAT_SRCS := $(wildcard formats/*.c formats/*/*.c formats/*/*/*.c)
PROTOS      := $(wildcard proto/*.proto)
PROTO_SRCS  := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PROTO_HDRS  := $(PROTO_SRCS:.c=.h)

LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRCS) $(FORMAT_SRCS)) \
            $(PROTO_SRCS:.c=.o)

STATIC_LIB := $(BUILD)/libstreamverify.a
SHARED_LIB := $(BUILD)/libstreamverify.so
SONAME     := libstreamverify.so.0
BIN        := $(BUILD)/streamverify
MANPAGE    := $(BUILD)/streamverify.1

# Test suites: every folder under tests/.  In tests/SUITE/, check_*.c are
# Check programs, gen_*.c and tool_*.c other programs (fixture generators,
# test drivers), the rest of
# the .c files support code linked into both, *.sh scripts run by `make check`.
SUITES      := $(notdir $(patsubst %/,%,$(wildcard tests/*/)))
suite_support = $(filter-out tests/$(1)/check_%.c tests/$(1)/gen_%.c tests/$(1)/tool_%.c,$(wildcard tests/$(1)/*.c))
suite_progs   = $(patsubst %.c,$(BUILD)/%,$(wildcard tests/$(1)/check_*.c tests/$(1)/gen_*.c tests/$(1)/tool_*.c))
TEST_PROGS  := $(foreach s,$(SUITES),$(call suite_progs,$(s)))
CHECK_PROGS := $(filter $(BUILD)/tests/%,$(foreach s,$(SUITES),$(patsubst %.c,$(BUILD)/%,$(wildcard tests/$(s)/check_*.c))))
TEST_SCRIPTS := $(wildcard tests/*/*.sh)

.PHONY: all check asan demo install completion-install clean deps check-deps fuzz-deps bench bench-quick fuzz fuzz-build
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Generated sources are kept; make would otherwise delete them as intermediates.
.SECONDARY: $(PROTO_SRCS) $(PROTO_HDRS)

all: $(BIN) $(STATIC_LIB) $(SHARED_LIB) $(MANPAGE)

# ---- dependencies ------------------------------------------------------------

# $(call ensure_pkgs,PACKAGES): install what is missing, or say how.
define ensure_pkgs
@missing=""; \
if command -v dpkg-query >/dev/null 2>&1; then \
  for p in $(1); do \
    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
  done; \
fi; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "streamverify: installing missing packages:$$missing"; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
      || { echo "streamverify: apt-get install failed" >&2; exit 1; }; \
  else \
    echo "streamverify: missing packages. Run:" >&2; \
    echo "    sudo apt-get install -y$$missing" >&2; \
    exit 1; \
  fi; \
fi
endef

deps:
	$(call ensure_pkgs,$(BUILD_PKGS))

check-deps: deps
	$(call ensure_pkgs,$(CHECK_PKGS))

# ---- build -------------------------------------------------------------------

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto | deps
	@mkdir -p $(dir $@)
	$(PROTOC_C) --proto_path=proto --c_out=$(BUILD)/proto $<

# Generated code is not ours to keep warning-free under every flag.
$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_HDRS)
	$(CC) $(CPPFLAGS) $(PC_CFLAGS) $(filter-out -Werror -Wshadow -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

# crit's field options, from the "// crit:" comments of the schema.
FIELDOPTS_INC := $(BUILD)/proto/criu-fieldopts.inc
$(FIELDOPTS_INC): formats/criu/schema/fieldopts.awk $(PROTOS)
	@mkdir -p $(dir $@)
	LC_ALL=C awk -f formats/criu/schema/fieldopts.awk $(PROTOS) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/formats/criu/schema/fieldopts.o: $(FIELDOPTS_INC)

$(BUILD)/obj/%.o: %.c $(PROTO_HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PC_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(STATIC_LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# Only the API of include/streamverify.h is exported: the version script is
# made from the header's declarations, so the two cannot disagree; protobuf-c
# messages and internals stay local (they would clash with other programs
# that link CRIU's protos).
$(BUILD)/libstreamverify.map: include/streamverify.h
	@mkdir -p $(dir $@)
	{ echo 'STREAMVERIFY_0 {'; echo '  global:'; \
	  sed -n 's/^[a-z][a-z_ ]*[ *]\(sv_[a-z_0-9]*\)(.*/    \1;/p' $< | sort -u; \
	  echo '  local: *;'; echo '};'; } > $@

$(SHARED_LIB): $(LIB_OBJS) $(BUILD)/libstreamverify.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(BUILD)/libstreamverify.map \
	  $(LDFLAGS) -o $@ $(LIB_OBJS) $(PC_LIBS)

# The tool is a static executable: no shared library to find, map and
# relocate at start-up (libarchive alone would pull in ICU and libstdc++ at
# load time), so a verify that seeks over its input costs little more than
# starting /bin/true.  It is not a PIE by default: a static PIE relocates
# itself at start, writing 6,500 pointers over 155 KiB (protobuf-c's
# descriptors, the code tables), 36 of the 84 page faults of a whole 1 GiB
# libxc verify (48 without); `make BIN_PIE=1` builds the static PIE.  Full
# RELRO stays either way.  The sanitizers cannot link statically: their
# builds link dynamically.  The shared library links dynamically as usual.
# libarchive's own compressors are linked in too (its tar reader and the
# gzip, zstd, xz and bzip2 filters pull in nothing else: no libxml2, no ICU).
BIN_STATIC_LIBS := -lprotobuf-c -ljansson -larchive -lelf -lzstd -llzma -lbz2 -llz4 -lz
BIN_PIE ?= 0
ifeq ($(SANITIZE),)
BIN_LINK := $(if $(filter 1,$(BIN_PIE)),-static-pie,-static -no-pie) $(BIN_STATIC_LIBS)
else
BIN_LINK := -pie $(PC_LIBS)
endif

$(BIN): $(BUILD)/obj/verify/main.o $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(BIN_LINK)

$(MANPAGE): docs/streamverify.1.in $(BIN)
	{ sed '/^@CODES@$$/,$$d' $<; $(BIN) --list-codes=man; sed '1,/^@CODES@$$/d' $<; } > $@

# ---- tests -------------------------------------------------------------------

$(BUILD)/tests/%: tests/%.c $(STATIC_LIB) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PC_CFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -Itests -o $@ $< \
	  $(call suite_support,$(word 2,$(subst /, ,$<))) $(STATIC_LIB) $(PC_LIBS) $(CHECK_LIBS) $(LDFLAGS)

# Support sources of a suite are compiled into each of its programs.
define suite_deps
$(call suite_progs,$(1)): $(call suite_support,$(1)) $(wildcard tests/$(1)/*.h)
endef
$(foreach s,$(SUITES),$(eval $(call suite_deps,$(s))))

TEST_ENV = SV=$(abspath $(BIN)) SV_BUILD=$(abspath $(BUILD)) SV_DATA=$(DATA) \
           CK_DEFAULT_TIMEOUT=120 SV_SANITIZE=$(SANITIZE)

check: check-deps all $(TEST_PROGS)
	@failed=0; passed=0; \
	for t in $(CHECK_PROGS); do \
	  echo "== $$t"; \
	  if $(TEST_ENV) SV_TEST_BUILD=$(abspath $(BUILD))/$$(dirname $${t#$(BUILD)/}) $$t; \
	  then passed=$$((passed+1)); else failed=$$((failed+1)); echo "FAILED: $$t"; fi; \
	done; \
	for t in $(TEST_SCRIPTS); do \
	  echo "== $$t"; \
	  if $(TEST_ENV) SV_TEST_BUILD=$(abspath $(BUILD))/$$(dirname $$t) bash $$t; \
	  then passed=$$((passed+1)); else failed=$$((failed+1)); echo "FAILED: $$t"; fi; \
	done; \
	echo "test programs: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

asan:
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 check

# ---- fuzzing -------------------------------------------------------------------

# One libFuzzer target per registered format, one for auto-detection, one
# for CRIU dump directories, one for encode (and decode) of JSON, and the
# others fuzz/README.md lists (show, --tee and the sinks, config and baseline files).
FUZZ_BUILD   := build/fuzz
FUZZ_FORMATS := $(shell sed -n 's/^SV_FORMAT(sv_format_\(.*\))/\1/p' formats/registry.def)
FUZZ_TARGETS := $(addprefix fuzz_,$(FUZZ_FORMATS) auto criu_dir encode text show tee cli_files)
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 60
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

fuzz-deps:
	$(call ensure_pkgs,$(FUZZ_PKGS))

ifneq ($(SANITIZE),fuzz)
$(FUZZ_BUILD)/libstreamverify.a: fuzz-deps FORCE
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=fuzz $(FUZZ_BUILD)/libstreamverify.a
endif

$(FUZZ_BUILD)/fuzz_criu_dir $(FUZZ_BUILD)/fuzz_encode $(FUZZ_BUILD)/fuzz_text $(FUZZ_BUILD)/fuzz_show \
$(FUZZ_BUILD)/fuzz_tee $(FUZZ_BUILD)/fuzz_cli_files: $(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.c $(FUZZ_BUILD)/libstreamverify.a
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< fuzz/fuzz_common.c $(FUZZ_BUILD)/libstreamverify.a $(PC_LIBS)

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_verify.c fuzz/fuzz_common.c $(FUZZ_BUILD)/libstreamverify.a
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -DFUZZ_FORMAT='"$(subst _,-,$(subst fuzz_,,$(notdir $@)))"' -o $@ \
	  fuzz/fuzz_verify.c fuzz/fuzz_common.c $(FUZZ_BUILD)/libstreamverify.a $(PC_LIBS)

fuzz-build: $(FUZZ_BINS)

# make fuzz FUZZ_SECONDS=N: every target for N seconds, seeded from the
# fixture generators; prints executions, speed, coverage and findings.
fuzz: fuzz-build $(TEST_PROGS)
	SV_BUILD=$(abspath $(BUILD)) FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) SV_DATA=$(DATA) \
	  FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_TARGETS)

.PHONY: FORCE
FORCE:

# ---- benchmarks ------------------------------------------------------------

$(BUILD)/bench/measure: bench/measure.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

BENCH_ENV = SV=$(abspath $(BIN)) SV_BUILD=$(abspath $(BUILD)) SV_DATA=$(DATA)

# make bench: full sizes, writes bench/RESULTS.md.  make bench-quick: the
# same harness at small sizes (CI runs it so the harness never rots).
bench: all $(TEST_PROGS) $(BUILD)/bench/measure
	$(BENCH_ENV) bash bench/run.sh full

bench-quick: all $(TEST_PROGS) $(BUILD)/bench/measure
	$(BENCH_ENV) bash bench/run.sh quick

# ---- demo --------------------------------------------------------------------

DEMO_DIR := $(BUILD)/demo

demo: all $(TEST_PROGS)
	@SV=$(abspath $(BIN)) SV_BUILD=$(abspath $(BUILD)) SV_DATA=$(DATA) DEMO_DIR=$(abspath $(DEMO_DIR)) \
	  bash tests/demo.sh

# ---- install -----------------------------------------------------------------

$(BUILD)/streamverify.pc: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: streamverify' 'Description: verify checkpoint images and VM migration streams' \
	  'Version: $(shell sed -n 's/^#define SV_VERSION "\(.*\)"/\1/p' include/streamverify.h)' \
	  'Requires.private: $(LIB_PCS)' 'Libs: -L$${libdir} -lstreamverify' 'Cflags: -I$${includedir}' > $@

install: all $(BUILD)/streamverify.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/streamverify
	# checkpointctl runs checkpointctl-NAME from PATH: `checkpointctl verify ARCHIVE`.
	printf '#!/bin/sh\nexec "$$(dirname "$$0")/streamverify" "$$@"\n' > $(DESTDIR)$(PREFIX)/bin/checkpointctl-verify
	chmod 755 $(DESTDIR)$(PREFIX)/bin/checkpointctl-verify
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libstreamverify.so
	install -m 644 include/streamverify.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/streamverify.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 644 $(MANPAGE) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/streamverify
	install -m 644 docs/streamverify-jsonl.schema.json $(DESTDIR)$(PREFIX)/share/streamverify/
	$(MAKE) --no-print-directory completion-install

# Shell completion (bash, zsh), part of install.
completion-install:
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 completion/streamverify.bash \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/streamverify
	install -m 644 completion/_streamverify $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_streamverify

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
