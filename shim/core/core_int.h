/*
 * core_int.h: what the two halves of the core share (core.c: thread state,
 * handles and writes; core_view.c: reads, views and the process-wide
 * layer).  Not for hooks: they use core.h.
 */
#ifndef CTX_CORE_INT_H
#define CTX_CORE_INT_H

#include "core.h"

#include <pthread.h>

/* share/chain modes: a mutable map, shared or layered. */
struct ctx_box {
	atomic_uint refs;
	pthread_mutex_t lock;
	struct cmap *own;        /* guarded by lock */
	struct ctx_box *parent;  /* chain mode; fixed at creation */
};



/* Box locks are taken with in_core raised, so that code interrupting this
 * thread (a signal handler that logs) knows not to take them again. */
static inline void box_lock(struct ctx_box *b)
{
	ctx_self.in_core++;
	pthread_mutex_lock(&b->lock);
}

static inline void box_unlock(struct ctx_box *b)
{
	pthread_mutex_unlock(&b->lock);
	ctx_self.in_core--;
}

/* 1 when the view cannot be read now: the thread holds a box lock (a signal
 * handler interrupted it inside the core). */
static inline int view_blocked(void)
{
	return ctx_cfg.mode != CTX_COPY && ctx_self.in_core;
}


static inline void peek_lock(struct ctx_thread *t)
{
	while (atomic_flag_test_and_set_explicit(&t->peek, memory_order_acquire))
		;
}

static inline void peek_unlock(struct ctx_thread *t)
{
	atomic_flag_clear_explicit(&t->peek, memory_order_release);
}

/* capture() must not return NULL for an empty copy-mode context: this
 * immortal stand-in (core.c) is never freed and never stored in a thread. */
extern struct cmap ctx_empty_map;
#define EMPTY_HANDLE ((ctxshim_ctx_t *)&ctx_empty_map)

static inline struct cmap *as_map(ctxshim_ctx_t *h)
{
	return (struct cmap *)h == &ctx_empty_map ? NULL : (struct cmap *)h;
}

struct ctx_box *box_ref(struct ctx_box *b);
void box_unref(struct ctx_box *b);

/* Lock a box chain from B up (share mode: B only), and unlock it. */
void chain_lock(struct ctx_box *b);
void chain_unlock(struct ctx_box *b);

/* A walk over visible entries: counts them, stops when FN says so. */
struct walk {
	ctx_entry_fn fn;
	void *arg;
	int n;
	int stop;
};

/* The visible entries of a thread view: its copy-mode map M or its locked
 * box chain B, then (GLOBAL) the process-wide entries it does not cover;
 * GLOBAL only while the caller holds a read of that layer open
 * (ctx_global_enter), until it is done with the entries. */
void view_visit(const struct cmap *m, struct ctx_box *b, struct walk *w, int global);

/* Arm the exit destructor that releases the thread's context and deferred
 * list (core.c); setting the key allocates nothing. */
void ctx_arm_exit(void);
/* At start-up: keep the process's pid (core_defer.c). */
void ctx_pid_init(void);

/* In a forked child: locks another thread may have held (core_view.c). */
void ctx_view_fork_child(void);

#endif
