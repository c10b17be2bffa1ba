# ctxshim: a task-local context for unmodified programs.
#
#   make            build build/libctxshim.so and the ctxrun helper
#   make check      install missing dependencies, build, run every test
#   make fuzz       run every libFuzzer target 10 minutes (FUZZ_SECONDS)
#   make asan       build/asan/libctxshim.so with ASan and UBSan
#   make bench      print the performance ratios of every issue
#   make demo       run the bundled example and a real server under ctxrun
#   make demo-hosts follow one request across hosts (network namespaces; root)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        build/ctxshim_<version>_<arch>.deb (scripts/mkdeb)

CC      ?= cc
PREFIX  ?= /usr/local
B       := build
# The one place the version is written (ctxshim.pc, man pages, the package).
VERSION := $(shell cat VERSION)
SOVERSION := 0

# Installed layout.  A system install (PREFIX=/usr) puts the library in
# Debian's multiarch directory, as the dynamic linker and pkg-config expect.
MULTIARCH := $(shell m=$$($(CC) -print-multiarch 2>/dev/null); \
	[ -n "$$m" ] || m=$$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null); echo $$m)
ifeq ($(PREFIX),/usr)
LIBDIR  ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
else
LIBDIR  ?= $(PREFIX)/lib
endif
BINDIR  ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/ctxshim
PYTHON3 ?= /usr/bin/python3
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
            $(if $(filter glib_%,$(1)),$(call pc,glib-2.0 gio-2.0),) \
            $(if $(filter sdj_%,$(1)),$(call pc,libsystemd),) \
            $(if $(filter tls_%,$(1)),$(call pc,libssl libcrypto),)

PROGS   := $(patsubst tests/progs/%.c,$(B)/tests/%,$(filter-out tests/progs/lib%.c,$(wildcard tests/progs/*.c))) \
           $(patsubst tests/progs/%.c,$(B)/tests/%.so,$(wildcard tests/progs/lib*.c))
UNITS   := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
BENCHES := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

.PHONY: all lib progs check check-layers unit bats check-tsan bench demo demo-hosts install deb deps clean fuzz print-pure print-lib asan

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

# Lazy binding (no -z now): binding the library's ~140 imports at load cost
# every process started under the shim ~80k instructions, most for functions
# it never calls.  The hooks call the real functions through their own
# pointers (resolve.c), never through the PLT.
$(B)/libctxshim.so: $(LIB_OBJS) $(B)/ctxshim.map Makefile
	$(CC) $(CFLAGS) -shared -pthread -Wl,--version-script=$(B)/ctxshim.map \
	  -Wl,-soname,libctxshim.so.$(SOVERSION) -Wl,-z,relro -o $@ $(LIB_OBJS) -ldl
	ln -sf libctxshim.so $(B)/libctxshim.so.$(SOVERSION)   # what -lctxshim programs look for

$(B)/ctxrun-helper: shim/cli/ctxrun_helper.c include/ctxshim.h | $(B)
	$(CC) $(CFLAGS) $(BASE) -D_FORTIFY_SOURCE=2 -Wl,-z,relro,-z,now $< -o $@

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
$(B)/unit/%: tests/unit/%.c $(PURE_SRCS) $(HEADERS) $(wildcard tests/unit/*.h) | $(B)/unit
	$(CC) -O1 -g $(BASE) $(SAN) -Ishim/pure $< $(PURE_SRCS) -o $@

# The whole library under AddressSanitizer and UBSan (gcc, shared runtimes),
# warning-free with -Werror like the real one; tests/net_asan.bats runs
# nginx with it (libasan preloaded first).
ASAN_B := $(B)/asan
ASAN_CC ?= gcc
ASAN_OBJS := $(LIB_SRCS:shim/%.c=$(ASAN_B)/obj/%.o)
asan: $(ASAN_B)/libctxshim.so

$(ASAN_B)/obj/loop/%.o: LIBFLAGS += $(shell pkg-config --cflags libuv libevent glib-2.0 2>/dev/null)

$(ASAN_B)/obj/%.o: shim/%.c $(HEADERS) | $(ASAN_B)/obj
	@mkdir -p $(@D)
	$(ASAN_CC) -O1 -g $(LIBFLAGS) $(INCS) $(SAN) -c $< -o $@

$(ASAN_B)/libctxshim.so: $(ASAN_OBJS) $(B)/ctxshim.map
	$(ASAN_CC) -shared -pthread $(SAN) -Wl,--version-script=$(B)/ctxshim.map \
	  -o $@ $(ASAN_OBJS) -ldl

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

# For scripts/fuzz-short and scripts/check-tsan: what they compile.
print-pure:
	@echo $(PURE_SRCS)
print-lib:
	@echo $(INCS) $(LIB_SRCS)

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "unit: $$t"; $$t; done

bats: progs asan
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

# The installed ctxrun names the installed library and helper (it still
# looks next to itself when they are not there: a DESTDIR staging copy); the
# installed ctxctl runs Debian's python3.  Man pages are installed
# uncompressed (scripts/mkdeb compresses them for the package).
MAN1 := man/ctxrun.1 man/ctxctl.1
MAN3 := man/ctxshim.3
MAN7 := man/ctxshim.7
# ctxshim(3) documents every API function: one link per name for man(1).
LP := (
MAN3_LINKS := $(shell sed -n 's/^CTXSHIM__DECL [^$(LP)]*[ *]\(ctxshim_[a-z_]*\)$(LP).*/\1/p' include/ctxshim.h)
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@SOVERSION@|$(SOVERSION)|g'

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(LIBEXECDIR)/ctxshim $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	  $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(B)/libctxshim.so $(DESTDIR)$(LIBDIR)/libctxshim.so.$(SOVERSION)
	ln -sf libctxshim.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libctxshim.so
	install -m 0644 include/ctxshim.h $(DESTDIR)$(INCLUDEDIR)/ctxshim.h
	install -m 0755 $(B)/ctxrun-helper $(DESTDIR)$(LIBEXECDIR)/ctxshim/ctxrun-helper
	sed -e 's|^inst_lib=$$|inst_lib=$(LIBDIR)/libctxshim.so.$(SOVERSION)|' \
	    -e 's|^inst_helper=$$|inst_helper=$(LIBEXECDIR)/ctxshim/ctxrun-helper|' \
	    -e 's|^inst_librel=$$|inst_librel=$(patsubst $(PREFIX)/%,%,$(LIBDIR))|' \
	    scripts/ctxrun > $(DESTDIR)$(BINDIR)/ctxrun
	chmod 0755 $(DESTDIR)$(BINDIR)/ctxrun
	install -m 0644 scripts/ctxctl_show.py $(DESTDIR)$(LIBEXECDIR)/ctxshim/ctxctl_show.py
	sed -e '1s|^#!.*|#!$(PYTHON3)|' scripts/ctxctl > $(DESTDIR)$(BINDIR)/ctxctl
	chmod 0755 $(DESTDIR)$(BINDIR)/ctxctl
	$(SUBST) scripts/ctxshim.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ctxshim.pc
	set -e; for m in $(MAN1) $(MAN3) $(MAN7); do \
	  s=$${m##*.}; $(SUBST) $$m > $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	set -e; for f in $(MAN3_LINKS); do ln -sf ctxshim.3 $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	$(SUBST) examples/ctxshim.conf.in > $(DESTDIR)$(DOCDIR)/examples/ctxshim.conf
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	chmod 0644 $(DESTDIR)$(DOCDIR)/examples/ctxshim.conf

# A Debian package from a staged install (PREFIX=/usr): build/ctxshim_*.deb.
deb: all
	VERSION=$(VERSION) SOVERSION=$(SOVERSION) MAKE="$(MAKE)" scripts/mkdeb

clean:
	rm -rf $(B)
