/*
 * hook_event.h: what hook_event.c (events) and hook_event_bev.c
 * (bufferevents, evhttp) share.
 */
#ifndef CTX_HOOK_EVENT_H
#define CTX_HOOK_EVENT_H

#include "hooks.h"
#include "loop.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Programs link either the whole of libevent or its parts (core, extra). */
static const char *const ev_libs[] = { "libevent-2.1.so.7", "libevent_core-2.1.so.7",
					"libevent_extra-2.1.so.7", NULL };
#define EV_REAL(name) LOOP_REAL(name, ev_libs)

/* 1 when the hook called from CALLER should wrap: the shim is on and the
 * call is the program's, not libevent's own. */
static inline int ev_act(const void *caller)
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
