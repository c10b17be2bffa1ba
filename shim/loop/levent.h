/*
 * levent.h: what levent.c (events) and levent_bev.c
 * (bufferevents, evhttp) share.
 */
#ifndef CTX_HOOK_EVENT_H
#define CTX_HOOK_EVENT_H

#include "hooks.h"
#include "loop.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#define HOOKS_LIB_levent ~, 1
#include "hooks_lib.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Programs link either the whole of libevent or its parts (core, extra):
 * hooks_libs_levent names them all (hooks.def). */
#define EV_REAL(name) LOOP_REAL(name, hooks_libs_levent)

/* 1 when the hook called from CALLER should wrap: the shim is on and the
 * call is the program's, not libevent's own. */
static inline int levent_act(const void *caller)
{
	return ctx_should_act() && !loop_internal(LOOP_EVENT, caller);
}

/* A record's lock: held for a few loads and stores. */
static inline void busy_lock(atomic_flag *f)
{
	while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
		sched_yield();
}

static inline void busy_unlock(atomic_flag *f)
{
	atomic_flag_clear_explicit(f, memory_order_release);
}

#endif
