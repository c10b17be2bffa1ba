# ctxshim: a task-local context for unmodified programs.
#
#   make            build build/libctxshim.so and the ctxrun helper
#   make check      install missing dependencies, build, run every test
#   make fuzz       run every libFuzzer target 10 minutes (FUZZ_SECONDS)
#   make asan       build/asan/libctxshim.so with ASan and UBSan
#   make bench      print the performance ratios of every issue
#   make demo       run the bundled example under ctxrun
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
B       := build
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
BASE    := -std=gnu11 -D_GNU_SOURCE -pthread $(WARN)
LIBFLAGS := $(BASE) -fPIC -fvisibility=hidden -ftls-model=initial-exec
# The event-loop hooks need these libraries' headers, never their .so files:
# a program that uses none of them must not load them.
LIBFLAGS += $(shell pkg-config --cflags libuv libevent glib-2.0 2>/dev/null)

# The library: every shim/*.c.  Pure parts (no hooks, no globals) are also
# linked into the unit tests.
LIB_SRCS  := $(wildcard shim/*.c)
LIB_OBJS  := $(LIB_SRCS:shim/%.c=$(B)/obj/%.o)
PURE_SRCS := shim/map.c shim/baggage.c shim/envp.c shim/ptrtab.c shim/http_parse.c shim/http_rx.c \
             shim/http_tx.c $(wildcard shim/pure_*.c)
HEADERS   := $(wildcard shim/*.h) shim/hooks.def include/ctxshim.h

# Extra flags for test programs and benchmarks, by file-name prefix.
pc = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)
PROG_LIBS = $(if $(filter uv_%,$(1)),$(call pc,libuv),) \
            $(if $(filter ev_%,$(1)),$(call pc,libevent libevent_pthreads),) \
            $(if $(filter glib_%,$(1)),$(call pc,glib-2.0 gio-2.0),)

PROGS   := $(patsubst tests/progs/%.c,$(B)/tests/%,$(filter-out tests/progs/lib%.c,$(wildcard tests/progs/*.c))) \
           $(patsubst tests/progs/%.c,$(B)/tests/%.so,$(wildcard tests/progs/lib*.c))
UNITS   := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
BENCHES := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

.PHONY: all lib progs check unit bats check-tsan bench demo install deps clean fuzz print-pure asan

all: lib $(B)/ctxrun-helper

lib: $(B)/libctxshim.so

# Exported: the public API and every hook named in hooks.def, nothing else.
$(B)/ctxshim.map: shim/hooks.def include/ctxshim.h | $(B)
	{ echo '{ global:'; \
	  sed -n 's/^CTXSHIM__DECL [^(]*[ *]\(ctxshim_[a-z_]*\)(.*/  \1;/p' include/ctxshim.h; \
	  sed -n 's/^HOOK[A-Z_]*(\([A-Za-z0-9_]*\).*/  \1;/p' shim/hooks.def; \
	  echo 'local: *; };'; } > $@

$(B)/obj/%.o: shim/%.c $(HEADERS) | $(B)/obj
	$(CC) $(CFLAGS) $(LIBFLAGS) -c $< -o $@

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
	$(CC) -O1 -g $(BASE) $(SAN) -Ishim $< $(PURE_SRCS) -o $@

# The whole library under AddressSanitizer and UBSan (gcc, shared runtimes),
# warning-free with -Werror like the real one; tests/net_asan.bats runs
# nginx with it (libasan preloaded first).
ASAN_B := $(B)/asan
ASAN_CC ?= gcc
ASAN_OBJS := $(LIB_SRCS:shim/%.c=$(ASAN_B)/obj/%.o)
asan: $(ASAN_B)/libctxshim.so

$(ASAN_B)/obj/%.o: shim/%.c $(HEADERS) | $(ASAN_B)/obj
	$(ASAN_CC) -O1 -g $(LIBFLAGS) $(SAN) -c $< -o $@

$(ASAN_B)/libctxshim.so: $(ASAN_OBJS) $(B)/ctxshim.map
	$(ASAN_CC) -shared -pthread $(SAN) -Wl,--version-script=$(B)/ctxshim.map \
	  -Wl,-z,now -o $@ $(ASAN_OBJS) -ldl

$(ASAN_B)/obj:
	mkdir -p $@

$(B)/bench/%: tests/bench/%.c include/ctxshim.h | $(B)/bench
	$(CC) -O2 -g $(BASE) -Iinclude $< -o $@ $(call PROG_LIBS,$*)

progs: all $(PROGS) $(BENCHES)

$(B) $(B)/obj $(B)/tests $(B)/unit $(B)/bench:
	mkdir -p $@

deps:
	@scripts/deps

# Every libFuzzer target for FUZZ_SECONDS (default 10 minutes) each;
# `make check` runs each briefly.
fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} scripts/fuzz-short

# For scripts/fuzz-short: the pure sources a fuzz target links.
print-pure:
	@echo $(PURE_SRCS)

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "unit: $$t"; $$t; done

bats: progs asan
	bats --print-output-on-failure tests/*.bats

# The concurrency tests again, with the shim and programs under ThreadSanitizer.
check-tsan: all
	scripts/check-tsan

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) bats
	$(MAKE) check-tsan
	[ ! -x scripts/fuzz-short ] || scripts/fuzz-short

bench: all progs
	scripts/bench

demo: deps
	$(MAKE) all progs
	scripts/demo

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
