/*
 * ctl_spawn.c: where threads were started (CTXSHIM_TRACE_SPAWN=1).
 *
 * The parent's stack is captured at pthread_create with libunwind, loaded
 * with dlopen(RTLD_LOCAL) the first time it is needed: linking it would
 * rebind C++ exception unwinding of modules loaded later (PITFALLS.md).
 * Never in a signal handler (pthread_create is not async-signal-safe).
 * Addresses are kept; names are looked up only when a client asks.
 */
#include "ctl.h"

#include <dlfcn.h>
#include <stdio.h>

/* libunwind's types, for the functions found with dlsym below. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* libunwind's functions, found with dlsym: nothing of libunwind is linked
 * (its header gives the types only). */
struct unw_api {
	int (*backtrace)(void **, int);
	int (*getcontext)(unw_context_t *);
	int (*init_local)(unw_cursor_t *, unw_context_t *);
	int (*step)(unw_cursor_t *);
	int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
};
static struct unw_api unw_fns;
static const struct unw_api *_Atomic unw_ready;
static atomic_int unw_state;     /* 0 untried, 1 loading, 2 done */

/* libunwind, loaded on first use; NULL while another thread loads it or
 * when it is not installed (then spawns go untraced). */
static const struct unw_api *unwinder(void)
{
	const struct unw_api *u = atomic_load_explicit(&unw_ready, memory_order_acquire);
	int expected = 0;
	if (likely(u != NULL) || !atomic_compare_exchange_strong(&unw_state, &expected, 1))
		return u;
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (h) {
		unw_fns.backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
		unw_fns.getcontext = (int (*)(unw_context_t *))dlsym(h, "_Ux86_64_getcontext");
		unw_fns.init_local = (int (*)(unw_cursor_t *, unw_context_t *))
			dlsym(h, "_ULx86_64_init_local");
		unw_fns.step = (int (*)(unw_cursor_t *))dlsym(h, "_ULx86_64_step");
		unw_fns.get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))
			dlsym(h, "_ULx86_64_get_reg");
	}
	if (unw_fns.backtrace && unw_fns.getcontext && unw_fns.init_local && unw_fns.step &&
	    unw_fns.get_reg)
		atomic_store_explicit(&unw_ready, &unw_fns, memory_order_release);
	else
		ctx_warn("CTXSHIM_TRACE_SPAWN: libunwind.so.8 %s; spawns are not traced",
			 h ? "lacks the functions needed" : "cannot be loaded");
	atomic_store(&unw_state, 2);
	return atomic_load(&unw_ready);
}

/* unw_backtrace keeps a cache per thread: its first call in a thread costs
 * ~100 us, later ones ~80 ns.  Stepping frame by frame uses the process-wide
 * cache: ~2.5 us a call, from the first.  A thread's first spawns are
 * stepped; from its STEP_SPAWNS-th on, when it has shown it spawns often,
 * unw_backtrace takes over. */
#define STEP_SPAWNS 16
static __thread unsigned my_spawns CTX_TLS;

int ctl_spawn_capture(void **frames, int max)
{
	const struct unw_api *u = unwinder();
	if (!u)
		return 0;
	if (my_spawns >= STEP_SPAWNS) {
		int n = u->backtrace(frames, max);
		return n > 0 ? n : 0;
	}
	my_spawns++;
	unw_context_t uc;
	unw_cursor_t cur;
	int n = 0;
	if (u->getcontext(&uc) < 0 || u->init_local(&cur, &uc) < 0)
		return 0;
	do {
		unw_word_t ip;
		if (u->get_reg(&cur, UNW_REG_IP, &ip) < 0 || !ip)
			break;
		frames[n++] = (void *)ip;
	} while (n < max && u->step(&cur) > 0);
	return n;
}

static void put_hex(struct jbuf *b, uintptr_t v)
{
	char s[24];
	int n = snprintf(s, sizeof s, "0x%lx", (unsigned long)v);
	jb_raw(b, "\"", 1);
	jb_raw(b, s, (size_t)n);
	jb_raw(b, "\"", 1);
}

/* The spawn frames, without the shim's own (the capture itself and the
 * pthread_create hook): the first frame is the program's call site. */
void ctl_spawn_put(struct jbuf *b, void *const *f, int n, int symbols)
{
	Dl_info self, info;
	int have_self = dladdr((void *)&ctl_spawn_capture, &self) != 0;
	int i = 0;
	while (i < n && have_self && dladdr(f[i], &info) && info.dli_fbase == self.dli_fbase)
		i++;
	jb_raw(b, "[", 1);
	for (; i < n; i++) {
		jb_comma(b);
		if (!symbols) {
			put_hex(b, (uintptr_t)f[i]);
			continue;
		}
		/* A return address points after the call: look up the byte
		 * before it, so a call that ends a function names that one. */
		void *at = (char *)f[i] - 1;
		jb_raw(b, "{", 1);
		jb_key(b, "addr");
		put_hex(b, (uintptr_t)f[i]);
		if (dladdr(at, &info) && info.dli_fname) {
			jb_key(b, "module");
			jb_cstr(b, info.dli_fname);
			jb_key(b, "offset");
			put_hex(b, (uintptr_t)f[i] - (uintptr_t)info.dli_fbase);
			if (info.dli_sname) {
				jb_key(b, "symbol");
				jb_cstr(b, info.dli_sname);
				jb_key(b, "symbol_offset");
				put_hex(b, (uintptr_t)f[i] - (uintptr_t)info.dli_saddr);
			}
		}
		jb_raw(b, "}", 1);
	}
	jb_raw(b, "]", 1);
}
