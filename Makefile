# ctxshim: a task-local context for unmodified programs.
#
#   make            build build/libctxshim.so and the ctxrun helper
#   make check      install missing dependencies, build, run every test
#   make bench      print the performance ratios of every issue
#   make demo       run the bundled example under ctxrun
#   make demo-hosts follow one request across hosts (network namespaces; root)
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
B       := build
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
BASE    := -std=gnu11 -D_GNU_SOURCE -pthread $(WARN)
LIBFLAGS := $(BASE) -fPIC -fvisibility=hidden -ftls-model=initial-exec

# The library: start-up and resolution in shim/, every layer in its folder
# (README, "Architecture"; CONTRIBUTING.md).  shim/pure (no hooks, no
# globals) is also linked into the unit tests and fuzz targets.
LAYERS    := pure core io log net ctl proc loop
LIB_SRCS  := $(filter-out shim/hooks_check.c,$(wildcard shim/*.c $(LAYERS:%=shim/%/*.c)))
LIB_OBJS  := $(LIB_SRCS:shim/%.c=$(B)/obj/%.o)
PURE_SRCS := $(wildcard shim/pure/*.c)
HEADERS   := $(wildcard shim/*.h $(LAYERS:%=shim/%/*.h)) shim/hooks.def include/ctxshim.h
INCS      := -Iinclude -Ishim $(LAYERS:%=-Ishim/%)

# Extra flags for test programs and benchmarks, by file-name prefix.
pc = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)
PROG_LIBS = $(if $(filter uv_%,$(1)),$(call pc,libuv),) \
            $(if $(filter ev_%,$(1)),$(call pc,libevent libevent_pthreads),) \
            $(if $(filter glib_%,$(1)),$(call pc,glib-2.0 gio-2.0),)

PROGS   := $(patsubst tests/progs/%.c,$(B)/tests/%,$(filter-out tests/progs/lib%.c,$(wildcard tests/progs/*.c))) \
           $(patsubst tests/progs/%.c,$(B)/tests/%.so,$(wildcard tests/progs/lib*.c))
UNITS   := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
BENCHES := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

.PHONY: all lib progs check check-layers unit bats check-tsan bench demo demo-hosts install deps clean fuzz print-pure print-lib

all: lib $(B)/ctxrun-helper

lib: $(B)/libctxshim.so $(B)/hooks_check.o

# Not linked: compiling it checks every signature in hooks.def against the
# system's headers (hooks_check.c); fortified, so that the _chk variants are
# declared.
$(B)/hooks_check.o: shim/hooks_check.c shim/hooks.def shim/hook_types.h | $(B)
	$(CC) -O2 -D_FORTIFY_SOURCE=2 $(BASE) -Ishim $(shell pkg-config --cflags libuv libevent glib-2.0 2>/dev/null) -c $< -o $@

# Exported: the public API and every hook named in hooks.def, nothing else.
$(B)/ctxshim.map: shim/hooks.def include/ctxshim.h | $(B)
	{ echo '{ global:'; \
	  sed -n 's/^CTXSHIM__DECL [^(]*[ *]\(ctxshim_[a-z_]*\)(.*/  \1;/p' include/ctxshim.h; \
	  sed -n 's/^HOOK[A-Z_]*(\([A-Za-z0-9_]*\).*/  \1;/p' shim/hooks.def; \
	  echo 'local: *; };'; } > $@

# The event-loop families need their libraries' headers, never their .so
# files (a program that uses none of them must not load them); only loop/
# sees those headers.
$(B)/obj/loop/%.o: LIBFLAGS += $(shell pkg-config --cflags libuv libevent glib-2.0 2>/dev/null)

$(B)/obj/%.o: shim/%.c $(HEADERS) | $(B)/obj
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LIBFLAGS) $(INCS) -c $< -o $@

$(B)/libctxshim.so: $(LIB_OBJS) $(B)/ctxshim.map
	$(CC) $(CFLAGS) -shared -pthread -Wl,--version-script=$(B)/ctxshim.map \
	  -Wl,-z,now -o $@ $(LIB_OBJS) -ldl

$(B)/ctxrun-helper: shim/cli/ctxrun_helper.c include/ctxshim.h | $(B)
	$(CC) $(CFLAGS) $(BASE) $< -o $@

# Test programs know nothing of the shim (or only its header).
$(B)/tests/%: tests/progs/%.c $(wildcard tests/progs/*.h) include/ctxshim.h | $(B)/tests
	$(CC) $(CFLAGS) $(BASE) -Iinclude $< -o $@ $(call PROG_LIBS,$*)

# log_fortify is log_calls built with _FORTIFY_SOURCE (it #includes it).
$(B)/tests/log_fortify: tests/progs/log_calls.c

# Test libraries (tests/progs/lib*.c), e.g. one whose constructor runs first,
# or a plugin loaded with dlopen (libev_plugin: linked like ev_* programs).
$(B)/tests/lib%.so: tests/progs/lib%.c include/ctxshim.h | $(B)/tests
	$(CC) $(CFLAGS) $(BASE) -Iinclude -fPIC -shared $< -o $@ $(call PROG_LIBS,$*)

# Unit tests: the pure modules under AddressSanitizer and UBSan.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(B)/unit/%: tests/unit/%.c $(PURE_SRCS) $(HEADERS) | $(B)/unit
	$(CC) -O1 -g $(BASE) $(SAN) -Ishim/pure $< $(PURE_SRCS) -o $@

$(B)/bench/%: tests/bench/%.c include/ctxshim.h | $(B)/bench
	$(CC) -O2 -g $(BASE) -Iinclude $< -o $@ $(call PROG_LIBS,$*)

progs: all $(PROGS) $(BENCHES)

$(B) $(B)/obj $(B)/tests $(B)/unit $(B)/bench:
	mkdir -p $@

deps:
	@scripts/deps

# For scripts/fuzz-short and scripts/check-tsan: what they compile.
print-pure:
	@echo $(PURE_SRCS)
print-lib:
	@echo $(INCS) $(LIB_SRCS)

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "unit: $$t"; $$t; done

bats: progs
	bats --print-output-on-failure tests/*.bats

# The concurrency tests again, with the shim and programs under ThreadSanitizer.
check-tsan: all
	scripts/check-tsan

# The folders' dependency graph has no cycle, and no file calls another
# family's exported hook instead of REAL() (scripts/check-layers).
check-layers: lib
	scripts/check-layers $(B)/obj

check: deps
	$(MAKE) all
	$(MAKE) check-layers
	$(MAKE) unit
	$(MAKE) bats
	$(MAKE) check-tsan
	[ ! -x scripts/fuzz-short ] || scripts/fuzz-short

bench: all progs
	scripts/bench

demo: deps
	$(MAKE) all progs
	scripts/demo

demo-hosts: deps
	$(MAKE) all
	scripts/demo-hosts

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/ctxshim \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(B)/libctxshim.so $(DESTDIR)$(PREFIX)/lib/libctxshim.so
	install -m 0644 include/ctxshim.h $(DESTDIR)$(PREFIX)/include/ctxshim.h
	install -m 0755 $(B)/ctxrun-helper $(DESTDIR)$(PREFIX)/libexec/ctxshim/ctxrun-helper
	install -m 0755 scripts/ctxrun $(DESTDIR)$(PREFIX)/bin/ctxrun
	sed -e 's|@PREFIX@|$(PREFIX)|' scripts/ctxshim.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ctxshim.pc

clean:
	rm -rf $(B)
