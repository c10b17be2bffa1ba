/*
 * init.c: start-up.  Reads the settings once, decodes the inherited BAGGAGE
 * into the main thread's context and resolves the real functions.
 *
 * Hooks may run before our constructor (from another library's constructor),
 * so every entry point calls ctx_init() when ctx_cfg.ready is still 0.
 */
#include "core.h"
#include "baggage.h"
#include "ctl.h"
#include "hooks.h"
#include "io.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

void ctx_core_init(struct cmap *initial);

struct decode_state {
	struct cmap *m;
	int full;
};

static int add_member(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct decode_state *st = arg;
	struct cmap *nm;
	if (cmap_with(st->m, k, kl, v, vl, 0, &nm) < 0) {
		st->full++;
		return 0;
	}
	cmap_unref(st->m);
	st->m = nm;
	return 0;
}

static struct cmap *initial_context(void)
{
	struct decode_state st = { NULL, 0 };
	const char *bag = ctx_getenv("BAGGAGE");
	int bad = bag_decode(bag, add_member, &st);
	if (bad || st.full)
		ctx_warn("BAGGAGE: skipped %d malformed and %d excess member(s)", bad, st.full);
	return st.m;
}

void ctx_init(void)
{
	static atomic_int state;
	static __thread int initializing CTX_TLS;
	int expected = 0;

	if (ctx_cfg.ready || initializing)
		return;
	if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
		while (atomic_load(&state) != 2)
			sched_yield();
		return;
	}
	initializing = 1;
	ctx_cfg.secure = getauxval(AT_SECURE) != 0;
	ctx_cfg.disabled = ctx_flag(ctx_getenv("CTXSHIM_DISABLE"));
	if (!ctx_cfg.disabled) {
		ctx_cfg.mode = ctx_parse_mode(ctx_getenv("CTXSHIM_MODE"));
		ctx_cfg.self_path = ctx_find_self();
		ctx_cfg.carry = ctx_find_carry();
		ctx_core_init(initial_context());
	}
	hooks_resolve();
	if (!ctx_cfg.disabled) {
		log_init();
		net_init();
		ctl_init();
	}
	initializing = 0;
	ctx_cfg.ready = 1;
	ctx_cfg.fast = !ctx_cfg.disabled && ctx_cfg.mode == CTX_COPY;
	atomic_store(&state, 2);
}

__attribute__((constructor)) static void ctx_ctor(void)
{
	ctx_init();
}
