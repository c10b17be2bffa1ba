/*
 * core.h: the context core as the hooks see it.
 *
 * The core owns each thread's current context and the three inheritance
 * modes; it knows nothing of hooks.  Hook families call only what is here.
 *
 * A handle (ctxshim_ctx_t *) is what a child inherits: in copy mode an
 * immutable map (a snapshot), in share and chain modes a reference to the
 * parent's mutable box.  The mode is fixed for the life of the process.
 */
#ifndef CTX_CORE_H
#define CTX_CORE_H

#define CTXSHIM_BUILDING 1
#include "ctxshim.h"

#include <errno.h>
#include "map.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTX_EXPORT __attribute__((visibility("default")))
#define CTX_TLS __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum ctx_mode { CTX_COPY = 0, CTX_SHARE = 1, CTX_CHAIN = 2 };

/* Process-wide settings, fixed by ctx_init (config.c). */
struct ctx_config {
	int ready;       /* ctx_init has finished */
	int disabled;    /* CTXSHIM_DISABLE=1: every hook passes through */
	int mode;        /* enum ctx_mode, from CTXSHIM_MODE */
	int secure;      /* getauxval(AT_SECURE): no variable is trusted */
	const char *self_path;   /* this library's file, for LD_PRELOAD */
	const char *const *carry;  /* CTXSHIM_*=... strings to pass on, NULL-ended */
};
extern struct ctx_config ctx_cfg;

/* Idempotent; called by the constructor and by any hook that runs first. */
void ctx_init(void);

/* The variable NAME, or NULL (always NULL in a secure-execution process). */
const char *ctx_getenv(const char *name);

/* Pass KV (a "CTXSHIM_...=value" setting, alive as long as the process) to every
 * child as if it had been in the environment (init.c); only during ctx_init. */
void ctx_carry_add(const char *kv);

/* A one-line warning on stderr that bypasses every hook. */
void ctx_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one parser of yes/no settings: 1 for "1", "yes", "true", "on" (any
 * case), else 0. */
int ctx_flag(const char *value);

/* For start-up (settings.c): CTXSHIM_MODE, this library's path, and the
 * CTXSHIM_* strings a child started with a fresh environment keeps. */
int ctx_parse_mode(const char *value);
const char *ctx_find_self(void);
const char *const *ctx_find_carry(void);

/* Save errno on entry, restore it on every exit path we add work to: the one
 * way every layer keeps the program's errno. */
#define KEEP_ERRNO int saved_errno_ = errno
#define RESTORE_ERRNO (errno = saved_errno_)

/* The shim's coarse monotonic clock, in ns (clock.c): ages and deadlines of
 * seconds; libc's own, whatever other preload fakes the time. */
uint64_t ctx_now_ns(void);

/* Locks across fork() (fork.c): hold TABLE's locks across fork(), so the
 * child never inherits one held by a thread that does not exist there; and
 * a family's own locks: PREPARE takes them before fork (after the tables'),
 * PARENT and CHILD let them go after.  CHILD runs before the tables are
 * unlocked, so it may walk them.  Register once (at start-up or first use). */
struct ptrtab;
void ctx_fork_watch(struct ptrtab *table);

/* The process's first wait (an event-loop wait, accept, a sleep, a blocking
 * wait for a child: the calls that show it lives on).  A family that must
 * act then (ctl/: a forked child's control listener) sets ctx_wait_fn once
 * and raises ctx_wait_pending; the wait hooks call ctx_waiting(), one flag
 * test when there is nothing to do (fork.c). */
extern int ctx_wait_pending;
extern void (*ctx_wait_fn)(void);
static inline void ctx_waiting(void)
{
	if (unlikely(ctx_wait_pending) && ctx_wait_fn)
		ctx_wait_fn();
}
void ctx_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* Per-thread hook state.  in_hook guards recursion: a hook that finds it set
 * calls the real function and nothing else. */
#define CTX_DEFER_MAX 64
struct ctx_thread {
	struct cmap *map;       /* copy mode: the current context (NULL: empty) */
	struct ctx_box *box;    /* share/chain modes: the current box */
	int in_hook;
	int keyed;              /* the exit destructor is armed */
	int in_core;            /* inside the core, perhaps holding a box lock */
	int changing;           /* inside a change of map/box (any mode) */
	atomic_flag peek;       /* held while map/box change, when observed */
	/* Reads of the process-wide layer (ctx_global_enter): how many are
	 * open (signal handlers nest), the layer epoch the outermost one
	 * started in, and whether the reclaimer sees this thread (registered
	 * by the control registry; else its reads count in ctx_global_strays). */
	_Atomic unsigned gnest;
	_Atomic uint64_t gepoch;
	int greg;
	/* References (and blocks) the thread let go of where it must not free:
	 * dropped at its next safe point (ctx_defer_drain).  Bit 0 set: a raw
	 * block for free(); else a handle of the process's mode. */
	_Atomic unsigned ndefer;
	uintptr_t defer[CTX_DEFER_MAX];
};
extern __thread struct ctx_thread ctx_self CTX_TLS;

/* The process-wide layer (set from outside, by ctxctl): every thread reads
 * through it for keys its own context lacks.  Immutable maps; a replaced
 * layer is freed once no thread can still be reading it (core_view.c): a
 * reader brackets its use with ctx_global_enter/leave, a few stores to its
 * own TLS, no lock, fine in a signal handler. */
extern struct cmap *_Atomic ctx_global;
/* Even while no replacement is under way; +2 per replacement. */
extern _Atomic uint64_t ctx_global_epoch;
/* Open reads by threads the reclaimer cannot see (not registered). */
extern atomic_uint ctx_global_strays;
int ctx_global_set(const char *key, size_t klen, const char *val, size_t vlen);
int ctx_global_unset(const char *key, size_t klen);

/* Open a read of the process-wide layer: the layer it returns, and any
 * loaded from ctx_global until ctx_global_leave, stays allocated until
 * then.  Nests.  The order (count, epoch, then the layer) is what the
 * reclaimer relies on; its membarrier() stands for the fence that would
 * otherwise be needed here between the stores and the load. */
static inline const struct cmap *ctx_global_enter(void)
{
	unsigned n = atomic_load_explicit(&ctx_self.gnest, memory_order_relaxed);
	atomic_store_explicit(&ctx_self.gnest, n + 1, memory_order_release);
	if (__builtin_expect(!ctx_self.greg, 0))
		atomic_fetch_add_explicit(&ctx_global_strays, 1, memory_order_seq_cst);
	else if (n == 0)
		atomic_store_explicit(&ctx_self.gepoch,
				      atomic_load_explicit(&ctx_global_epoch, memory_order_acquire),
				      memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	return atomic_load_explicit(&ctx_global, memory_order_acquire);
}

static inline void ctx_global_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	if (__builtin_expect(!ctx_self.greg, 0))
		atomic_fetch_sub_explicit(&ctx_global_strays, 1, memory_order_release);
	unsigned n = atomic_load_explicit(&ctx_self.gnest, memory_order_relaxed);
	atomic_store_explicit(&ctx_self.gnest, n - 1, memory_order_release);
}

/* The calling thread becomes visible to the reclaimer (REG 1: its record
 * is about to be published) or stops being (REG 0: before its record is
 * withdrawn).  Reads open meanwhile are handed over, never lost. */
void ctx_global_reader(int reg);
/* Set once by the control family: the oldest epoch an open read of a
 * registered thread started in (UINT64_MAX: none open).  Without it
 * nothing is reclaimed. */
extern uint64_t (*ctx_global_scan)(void);
/* What a thread's reads look like to the reclaimer (for the scanner). */
static inline int ctx_global_reading(struct ctx_thread *t, uint64_t *epoch)
{
	if (!atomic_load_explicit(&t->gnest, memory_order_acquire))
		return 0;
	*epoch = atomic_load_explicit(&t->gepoch, memory_order_acquire);
	return 1;
}

/* Set by a family that reads other threads' contexts (ctx_peek): from then
 * on a thread changing its own context holds its peek flag meanwhile. */
extern int ctx_observed;

/* The visible context of thread T (its ctx_self), global layer included, as
 * a new reference (NULL when empty).  T must be alive.  -1 on ENOMEM. */
int ctx_peek(struct ctx_thread *t, struct cmap **out);
/* Another reference on handle H (NULL stays NULL); release with
 * ctx_release.  One atomic increment: fine under a spin lock. */
ctxshim_ctx_t *ctx_ref(ctxshim_ctx_t *h);
/* The visible entries of handle H (a connection's or a request's context),
 * global layer included, as a new reference (NULL when empty); -1 ENOMEM. */
int ctx_view(ctxshim_ctx_t *h, struct cmap **out);

/* 1 when the calling thread was interrupted (by a signal handler) inside a
 * change of its own context: it must not be changed again now. */
static inline int ctx_interrupted(void)
{
	return ctx_self.in_core | ctx_self.changing;
}

/* For paths a signal handler may reach (read/write on a connection): let go
 * of H, or of the block P, without freeing anything now.  A reference that
 * is not the last is dropped at once (an atomic decrement); a last one waits
 * on the thread's deferred list for ctx_defer_drain.  Returns 0, or -1 when
 * the list is full and nothing was done (the caller keeps H or P). */
int ctx_release_later(ctxshim_ctx_t *h);
int ctx_free_later(void *p);
/* Room left on the deferred list. */
static inline unsigned ctx_defer_room(void)
{
	/* (a push that found the list full counts one over for a moment) */
	unsigned n = atomic_load_explicit(&ctx_self.ndefer, memory_order_relaxed);
	return n >= CTX_DEFER_MAX ? 0 : CTX_DEFER_MAX - n;
}
/* At a safe point (a path that allocates or frees anyway, never reached from
 * a read or write): free what the thread deferred.  A load and a branch
 * when there is nothing. */
void ctx_defer_flush(void);
static inline void ctx_defer_drain(void)
{
	if (unlikely(atomic_load_explicit(&ctx_self.ndefer, memory_order_relaxed)) &&
	    !ctx_interrupted())
		ctx_defer_flush();
}
/* What the thread holds now as a handle, making nothing (share/chain: NULL
 * when it has no box yet); release with ctx_release(_later). */
ctxshim_ctx_t *ctx_capture_held(void);
/* ctx_switch for paths a signal handler may reach: the previous context is
 * let go with ctx_release_later.  Returns -1 (and changes nothing) when the
 * deferred list has no room or the thread is inside a context change. */
int ctx_switch_later(ctxshim_ctx_t *h);

/* A child made with vfork or posix_spawn (CLONE_VM) runs in its parent's
 * memory until it execs: whatever it changed there, the parent would find
 * changed.  ctx_in_vfork_child() is 1 in such a child: it must change
 * nothing of the shim's state and allocate or free nothing.  Costs a getpid
 * system call: only for calls that would change the state (close or dup2 of
 * an fd the shim has a record of).  ctx_pid_set: in a forked child, this
 * memory is now the calling process's own (core_defer.c). */
int ctx_in_vfork_child(void);
void ctx_pid_set(void);

/* Hooks start with this: 1 when the shim should act on this call. */
static inline int ctx_should_act(void)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return ctx_cfg.ready && !ctx_cfg.disabled && !ctx_self.in_hook;
}

/* 1 when the calling thread's context is certainly empty (cheap). */
static inline int ctx_is_empty(void)
{
	return (ctx_cfg.mode == CTX_COPY ? ctx_self.map == NULL : ctx_self.box == NULL) &&
	       atomic_load_explicit(&ctx_global, memory_order_relaxed) == NULL;
}

/* What a child inherits now (never NULL unless out of memory). */
ctxshim_ctx_t *ctx_capture(void);
/* Install H as a new thread's first context; consumes H. */
void ctx_adopt(ctxshim_ctx_t *h);
/* Switch to H for a while (H not consumed); returns the token for detach. */
ctxshim_ctx_t *ctx_attach(ctxshim_ctx_t *h);
void ctx_detach(ctxshim_ctx_t *token);
void ctx_release(ctxshim_ctx_t *h);
/* Make H itself (not a child of it) the current context, releasing the
 * previous one; H is not consumed.  For contexts that belong to something
 * other than a thread (a connection): in share/chain modes the thread then
 * writes into H's own box; in copy mode re-capture after writing. */
void ctx_switch(ctxshim_ctx_t *h);

/* A new context of its own (a new reference; NULL when out of memory or
 * over CMAP_MAX_ENTRIES): H's entries with the N entries of SET (distinct
 * keys, checked by the caller; sorted by key, it costs no sort) on top.
 * In chain mode a new layer over H,
 * so H's later writes show through; otherwise a copy.  For contexts that
 * belong to a connection or a request rather than a thread. */
ctxshim_ctx_t *ctx_derive(ctxshim_ctx_t *h, const struct cmap_entry *set, size_t n);
/* 1 when the calling thread's current context is H itself. */
int ctx_is_current(ctxshim_ctx_t *h);
/* Bytes handle H holds of its own (a context from ctx_derive: in chain mode
 * its layer only, the rest being shared with its parent).  Copy mode: a few
 * loads; share and chain modes take the box lock. */
size_t ctx_size(ctxshim_ctx_t *h);

/* Copy entry E's value into BUF like ctxshim_get; returns its length. */
static inline ssize_t ctx_copy_out(const struct cmap_entry *e, char *buf, size_t size)
{
	if (size) {
		size_t n = e->vlen < size - 1 ? e->vlen : size - 1;
		__builtin_memcpy(buf, e->val, n);
		buf[n] = '\0';
	}
	return (ssize_t)e->vlen;
}

/* Set or unset a key from a counted string (checked like ctxshim_set). */
int ctx_set_n(const char *key, size_t klen, const char *val, size_t vlen);
/* Unset KEY (chain mode: hide it), or clear everything (KEY == NULL). */
int ctx_unset_n(const char *key, size_t klen);

/* Copy KEY's current value into BUF like ctxshim_get; no allocation, safe to
 * call from a hook at any time (it takes box locks in share/chain modes). */
ssize_t ctx_lookup(const char *key, size_t klen, char *buf, size_t size);

/* Call FN for each visible entry of the current context (no allocation;
 * box locks held during the walk: FN must not call back into the core).
 * Returns the number visited; FN returning non-zero stops the walk. */
typedef int (*ctx_entry_fn)(const struct cmap_entry *e, void *arg);
int ctx_visit(ctx_entry_fn fn, void *arg);

/* The current context flattened into BUF (CAP bytes, 16-aligned), without
 * allocating: for code that may run in a signal handler.  -1 with errno
 * EDEADLK when the thread is inside the core (a handler interrupted it while
 * it held a lock: reading now would deadlock), ENOSPC when it does not fit.
 * *OUT is NULL for an empty context; never cmap_unref it. */
int ctx_snapshot_into(void *buf, size_t cap, struct cmap **out);

/* The current context flattened into one map (a new reference, NULL when
 * empty); -1 with errno ENOMEM. */
int ctx_snapshot(struct cmap **out);

/* Encode the current context as a Baggage value into BUF, request_id first,
 * within Baggage's limits.  Returns its length; -1 with errno EDEADLK when
 * the context cannot be read now (share/chain: this thread was interrupted
 * while holding a lock of the core, e.g. exec from a signal handler). */
ssize_t ctx_baggage(char *buf, size_t cap);
/* The length ctx_baggage would need (at most BAG_MAX_BYTES), or -1. */
ssize_t ctx_baggage_size(void);

/* In a forked child: make the forking thread's context private to this
 * process (SNAP, from ctx_snapshot before fork, is consumed). */
void ctx_fork_child(struct cmap *snap);

/* A fresh unique id: 32 lowercase hex digits and a NUL (ids.c). */
void ctx_new_id(char out[33]);
void ctx_ids_fork_child(void);

#endif
