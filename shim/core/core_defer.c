/*
 * core_defer.c: what the core does for hooks that may run where nothing can
 * be freed or changed: in a signal handler (the thread's deferred list) and
 * in a vforked child (knowing that it is one).
 */
#include "core_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- deferred releases -------------------------------------------------
 * A read or write hook may run in a signal handler that interrupted
 * malloc, free or the core itself: what it lets go of waits here, on the
 * thread's own list (no allocation: a fixed array), until the thread is
 * somewhere it frees anyway.  Pushes reserve their slot with one atomic
 * increment first, so a handler interrupting a push uses the next slot. */

/* Drop one reference unless it is the last: 1 when dropped. */
static int drop_unless_last(atomic_uint *refs)
{
	unsigned r = atomic_load_explicit(refs, memory_order_relaxed);
	while (r > 1)
		if (atomic_compare_exchange_weak_explicit(refs, &r, r - 1, memory_order_acq_rel,
							  memory_order_relaxed))
			return 1;
	return 0;
}

static int defer_push(uintptr_t v)
{
	unsigned n = atomic_fetch_add_explicit(&ctx_self.ndefer, 1, memory_order_relaxed);
	if (n >= CTX_DEFER_MAX) {
		atomic_fetch_sub_explicit(&ctx_self.ndefer, 1, memory_order_relaxed);
		return -1;
	}
	ctx_self.defer[n] = v;
	ctx_arm_exit();     /* a thread that ends frees its list (key set once: no allocation) */
	return 0;
}

int ctx_release_later(ctxshim_ctx_t *h)
{
	atomic_uint *refs;
	if (ctx_cfg.mode == CTX_COPY) {
		struct cmap *m = as_map(h);
		if (!m)
			return 0;
		refs = &m->refs;
	} else {
		if (!h)
			return 0;
		refs = &((struct ctx_box *)h)->refs;
	}
	if (drop_unless_last(refs))
		return 0;
	return defer_push((uintptr_t)h);
}

int ctx_free_later(void *p)
{
	return p ? defer_push((uintptr_t)p | 1) : 0;
}

void ctx_defer_flush(void)
{
	for (;;) {
		unsigned n = atomic_load_explicit(&ctx_self.ndefer, memory_order_relaxed);
		if (!n)
			return;
		uintptr_t v = ctx_self.defer[n - 1];
		/* Fails only if a handler pushed meanwhile: then take its entry first. */
		if (!atomic_compare_exchange_strong_explicit(&ctx_self.ndefer, &n, n - 1,
							     memory_order_relaxed, memory_order_relaxed))
			continue;
		if (v & 1)
			free((void *)(v & ~(uintptr_t)1));
		else
			ctx_release((ctxshim_ctx_t *)v);
	}
}

/* ---- vforked children ---------------------------------------------------- */

/* The pid lives in a page of its own marked MADV_WIPEONFORK: a child with
 * memory of its own (fork, _Fork, a raw clone without CLONE_VM) finds it
 * zeroed and so knows it is not running in another process's memory, while
 * a CLONE_VM child (vfork, posix_spawn) sees the parent's pid.  Without that
 * page (madvise refused: Linux < 4.14), a plain variable set at start-up
 * and in fork children (an atfork handler, the _Fork hook) does the same
 * for every fork but a raw clone. */
static pid_t pid_plain;
static pid_t *pid_slot = &pid_plain;

void ctx_pid_set(void)
{
	*pid_slot = (pid_t)syscall(SYS_getpid);
}

int ctx_in_vfork_child(void)
{
	/* The raw call: only the kernel knows which process runs this. */
	pid_t now = (pid_t)syscall(SYS_getpid);
	pid_t mine = *pid_slot;
	if (unlikely(mine == 0)) {
		if (pid_slot == &pid_plain)
			return 0;       /* before start-up */
		*pid_slot = now;        /* a forked child's first look: its own page */
		return 0;
	}
	return mine != now;
}

void ctx_pid_init(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		if (madvise(p, 4096, MADV_WIPEONFORK) == 0)
			pid_slot = p;
		else
			munmap(p, 4096);
	}
	ctx_pid_set();
	/* Every fork that runs atfork handlers (fork, daemon...); _Fork is
	 * hooked; vfork and posix_spawn run none, which is the point. */
	pthread_atfork(NULL, NULL, ctx_pid_set);
}
