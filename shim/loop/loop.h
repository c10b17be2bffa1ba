/*
 * loop.h: what the event-loop families share.  One family per library, its
 * files named after it: uvloop*.c (libuv), levent*.c (libevent), gloop*.c
 * (GLib), ucontext.c (libc's coroutines).
 *
 * The rule they implement, after asyncio's: a callback runs in the context
 * that was current when it was registered, and the loop's own context is back
 * when it returns.  Registration takes a reference (ctx_capture, O(1)); a run
 * is ctx_attach / program callback / ctx_detach; the reference is released
 * once, when the registration ends.
 *
 * Adding a library (CONTRIBUTING.md has the whole recipe):
 *   1. hooks.def: LIBRARY(id, sonames...) and one HOOK_LIB line per
 *      function; hooks_check.c includes the library's headers.
 *   2. loop/ID.h: include the library's headers, then
 *      `#define HOOKS_LIB_id ~, 1` and hooks_lib.h (the real_* pointers);
 *      one ID*.c defines HOOKS_LIB_DEFINE before including it.  A REAL
 *      macro: LOOP_REAL(name, hooks_libs_id).
 *   3. If the library calls its own hooked functions, a value in enum
 *      loop_lib and a row in loop.c's families[], so loop_internal tells
 *      those calls from the program's.
 *   4. Each hook: guard with ctx_should_act() (and !loop_internal), keep the
 *      program's callback and argument visible to the library's getters,
 *      wrap with loop_enter/loop_leave, and hold the family's tables across
 *      fork with ctx_fork_watch (core/fork.c).
 *   5. The Makefile passes the library's pkg-config --cflags to loop/ only;
 *      tests/loop.bats and a tests/progs program prove every entry point.
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

/* Resolve real_NAME from LIBS once (hooks_lib_sym). */
#define LOOP_REAL(name, libs) REAL_LIB(name, libs)

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
	KEEP_ERRNO;
	ctxshim_ctx_t *token = ctx_attach(h);
	RESTORE_ERRNO;
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
