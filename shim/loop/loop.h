/*
 * loop.h: what the event-loop hooks share (uvloop.c, levent.c,
 * gloop.c, gloop_pool.c, ucontext.c).
 *
 * The rule they implement, after asyncio's: a callback runs in the context
 * that was current when it was registered, and the loop's own context is back
 * when it returns.  Registration takes a reference (ctx_capture, O(1)); a run
 * is ctx_attach / program callback / ctx_detach; the reference is released
 * once, when the registration ends.
 */
#ifndef CTX_LOOP_H
#define CTX_LOOP_H

#include "core.h"
#include "ptrtab.h"

#include <errno.h>
#include <stdint.h>

enum loop_lib { LOOP_UV = 1, LOOP_EVENT = 2 };

/* 1 when the code at ADDR (a hook's return address) lies in library LIB
 * itself.  A library's calls to its own public functions go through the PLT
 * and so reach our hooks (libevent's event_new calls event_assign, libuv's
 * uv_timer_again calls uv_timer_start); those are its own business and pass
 * straight through.  Cached: a few compares once warm. */
struct loop_range {
	uintptr_t lo, hi;
	int lib;
};
extern __thread struct loop_range loop_last[2] CTX_TLS;
int loop_internal_slow(enum loop_lib lib, uintptr_t addr);

static inline int loop_internal(enum loop_lib lib, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	/* The callers of the last hooks on this thread, most of the time: the
	 * program, and the library calling itself from inside the program's
	 * call (event_base_once assigns its event through event_assign). */
	if (a - loop_last[0].lo < loop_last[0].hi - loop_last[0].lo)
		return loop_last[0].lib == (int)lib;
	if (a - loop_last[1].lo < loop_last[1].hi - loop_last[1].lo)
		return loop_last[1].lib == (int)lib;
	return loop_internal_slow(lib, a);
}

/* Find NAME in the first loaded library of LIBS (a NULL-ended list of
 * sonames, looked up with RTLD_NOLOAD), else the next definition after ours.
 * NULL when none is loaded.  For the first call of each hook only. */
void *loop_sym(const char *const *libs, const char *name);

/* Resolve real_NAME from LIBS once (see loop_sym). */
#define LOOP_REAL(name, libs) \
	(likely(real_##name != NULL) ? real_##name : \
	 (real_##name = (__typeof__(real_##name))loop_sym(libs, #name)))

/* Hold TABLE's locks across fork(), so the child never inherits one held by
 * a thread that does not exist there. */
void loop_watch_fork(struct ptrtab *table);

/* The same for a family's own locks: PREPARE takes them before fork (with
 * every watched table's locks held), PARENT and CHILD let them go after.
 * CHILD runs before the tables are unlocked, so it may walk them. */
void loop_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* The caller's address, for loop_internal. */
#define LOOP_CALLER() __builtin_return_address(0)

/* A callback runs inside these: the context of its registration attached,
 * the loop's own restored after.  H may be NULL (run as is). */
static inline ctxshim_ctx_t *loop_enter(ctxshim_ctx_t *h, int *entered)
{
	*entered = h != NULL;
	if (!h)
		return NULL;
	/* errno is the library's message to the callback (evhttp restores it
	 * for the user's callback on purpose).  Copy mode touches nothing that
	 * sets it; the other modes may allocate a layer. */
	if (likely(ctx_cfg.mode == CTX_COPY))
		return ctx_attach(h);
	int saved = errno;
	ctxshim_ctx_t *token = ctx_attach(h);
	errno = saved;
	return token;
}

static inline void loop_leave(ctxshim_ctx_t *token, int entered)
{
	/* ctx_detach only frees (glibc's free keeps errno). */
	if (entered)
		ctx_detach(token);
}

/* Replace *SLOT with H and release what was there. */
static inline void loop_swap(ctxshim_ctx_t **slot, ctxshim_ctx_t *h)
{
	ctxshim_ctx_t *old = *slot;
	*slot = h;
	ctx_release(old);
}

#endif
