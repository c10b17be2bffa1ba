/*
 * ucontext.c: coroutines on makecontext/swapcontext/setcontext.  The
 * current context moves with the stack: each coroutine keeps its own across
 * switches, and a new one starts in the context of the code that made it.
 *
 * What each ucontext_t was running in is kept in a side table keyed by its
 * address (the struct is the program's):
 *   - swapcontext(oucp, ucp) saves the leaving context under oucp, then
 *     enters ucp; setcontext(ucp) only enters.
 *   - entering a ucontext we know restores exactly what it left with; a
 *     fresh coroutine (made, never run) starts in a child of its maker's
 *     context, as a thread would.
 *   - pooled fibres: OpenSSL's async jobs reuse one makecontext fibre for
 *     job after job, each started from the caller's own stack in the
 *     caller's request.  A context saved in such a fibre would be stale for
 *     the next job, so a fibre entered from a plain stack whose context is
 *     no longer the one the fibre last returned to takes the enterer's
 *     context instead of its own (a scheduler resuming its coroutine is
 *     unchanged since, and the coroutine gets its own back).
 *   - when a coroutine's function returns, glibc switches to its uc_link
 *     from inside libc, out of our reach: so makecontext starts the program's
 *     function from a small trampoline of ours, which re-enters uc_link's
 *     context after it returns (up to 6 arguments; more start directly).
 *
 * The records of plain stacks live while they are switched away from; a
 * fibre's lives until its function returns or makecontext is called on it
 * again.  One switched away from and never resumed (its memory freed) keeps
 * its record.  The switch hooks allocate nothing in steady state (a spare
 * record per thread), and a signal handler that switches while its thread
 * is inside one of them passes straight through.
 */
#include "hooks.h"
#include "loop.h"

#include <stdarg.h>
#include <stdlib.h>

static struct ptrtab uctab = PTRTAB_INIT;

struct uce {
	struct ptrtab_node node;   /* key: the ucontext_t */
	int fibre;                 /* made by makecontext */
	int fresh;                 /* made and never entered */
	ctxshim_ctx_t *own;        /* fresh: the maker's; else its own, saved on leaving */
	ctxshim_ctx_t *peer;       /* the context it left to */
};

/* The fibre this thread runs on (NULL: a plain stack, or one we never saw). */
static __thread const ucontext_t *cur_fibre CTX_TLS;
static __thread struct uce *spare CTX_TLS;

static struct uce *uce_get(void)
{
	struct uce *e = spare;
	if (e) {
		spare = NULL;
		return e;
	}
	return calloc(1, sizeof *e);
}

static void uce_put(struct uce *e)
{
	ctx_release(e->own);
	ctx_release(e->peer);
	e->own = e->peer = NULL;
	e->fibre = e->fresh = 0;
	if (!spare)
		spare = e;
	else
		free(e);
}

static void watch_fork_once(void)
{
	static atomic_int done;
	if (!atomic_load_explicit(&done, memory_order_relaxed) && !atomic_exchange(&done, 1))
		ctx_fork_watch(&uctab);
}

/* Enter UCP from a thread whose context is SWITCHER (a capture, not
 * consumed).  Called with in_hook raised. */
static void enter(const ucontext_t *ucp, ctxshim_ctx_t *switcher)
{
	enum { KEEP, CHILD, EXACT } how = KEEP;
	struct uce *gone = NULL;
	ctxshim_ctx_t *h = NULL;
	const ucontext_t *fibre = NULL;
	struct ptrtab_shard *s = ptrtab_shard(&uctab, ucp);

	pthread_mutex_lock(&s->lock);
	struct uce *t = (struct uce *)ptrtab_find_locked(s, ucp);
	if (t) {
		fibre = t->fibre ? ucp : NULL;
		if (t->fresh) {
			how = CHILD;
			h = t->own;
			t->own = NULL;
			t->fresh = 0;
		} else if (t->fibre && !cur_fibre && t->peer != switcher) {
			how = KEEP;      /* a pooled fibre on a new job: the enterer's */
			gone = NULL;
			ctx_release(t->own);
			t->own = NULL;
		} else if (t->own) {
			how = EXACT;
			h = t->own;
			t->own = NULL;
		}
		if (!t->fibre)
			gone = (struct uce *)ptrtab_take_locked(s, ucp);
	}
	pthread_mutex_unlock(&s->lock);

	if (how == CHILD)
		ctx_release(ctx_attach(h));
	else if (how == EXACT)
		ctx_switch(h);
	ctx_release(h);
	if (gone)
		uce_put(gone);
	cur_fibre = fibre;
}

/* Remember that OUCP left with OWN (consumed) for PEER (consumed). */
static void save(const ucontext_t *oucp, ctxshim_ctx_t *own, ctxshim_ctx_t *peer)
{
	struct ptrtab_node *stale = NULL;
	ctxshim_ctx_t *old_own = NULL, *old_peer = NULL;
	struct uce *fresh = NULL;
	struct ptrtab_shard *s = ptrtab_shard(&uctab, oucp);

	pthread_mutex_lock(&s->lock);
	struct uce *e = (struct uce *)ptrtab_find_locked(s, oucp);
	if (!e) {
		pthread_mutex_unlock(&s->lock);
		fresh = uce_get();       /* outside the lock: may allocate */
		pthread_mutex_lock(&s->lock);
		e = (struct uce *)ptrtab_find_locked(s, oucp);
		if (!e && fresh) {
			fresh->node.key = oucp;
			if (ptrtab_put_locked(s, &fresh->node, &stale) == 0) {
				e = fresh;
				fresh = NULL;
			}
		}
	}
	if (e) {
		old_own = e->own;
		old_peer = e->peer;
		e->own = own;
		e->peer = peer;
		e->fresh = 0;
		own = peer = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	ctx_release(old_own);
	ctx_release(old_peer);
	ctx_release(own);
	ctx_release(peer);
	if (fresh)
		uce_put(fresh);
	if (stale)
		uce_put((struct uce *)stale);
}

static int uc_act(void)
{
	return ctx_should_act();
}

CTX_EXPORT int swapcontext(ucontext_t *oucp, const ucontext_t *ucp)
{
	__typeof__(real_swapcontext) real = REAL(swapcontext);
	if (!oucp || !ucp || !uc_act())
		return real(oucp, ucp);
	KEEP_ERRNO;
	watch_fork_once();
	ctx_self.in_hook++;
	const ucontext_t *was = cur_fibre;
	ctxshim_ctx_t *me = ctx_capture();
	enter(ucp, me);
	save(oucp, me, ctx_capture());
	ctx_self.in_hook--;
	RESTORE_ERRNO;
	/* Not raised across the switch: the other side runs the program. */
	int rc = real(oucp, ucp);
	if (rc < 0) {
		/* No switch happened: come back to oucp as if resumed. */
		saved_errno_ = errno;
		ctx_self.in_hook++;
		cur_fibre = was;
		ctxshim_ctx_t *now = ctx_capture();
		enter(oucp, now);
		ctx_release(now);
		ctx_self.in_hook--;
		RESTORE_ERRNO;
	}
	/* Back here means someone entered oucp: its context is in place. */
	return rc;
}

CTX_EXPORT int setcontext(const ucontext_t *ucp)
{
	__typeof__(real_setcontext) real = REAL(setcontext);
	if (!ucp || !uc_act())
		return real(ucp);
	KEEP_ERRNO;
	ctx_self.in_hook++;
	ctxshim_ctx_t *me = ctx_capture();
	enter(ucp, me);
	ctx_release(me);      /* this frame never resumes: hold nothing here */
	ctx_self.in_hook--;
	RESTORE_ERRNO;
	return real(ucp);     /* returns only on failure (never, on glibc) */
}

/* ---- makecontext and the trampolines --------------------------------- */

/* The end of a coroutine: its record goes, and uc_link gets its context. */
static void finished(const ucontext_t *self, const ucontext_t *link)
{
	KEEP_ERRNO;
	ctx_self.in_hook++;
	struct uce *e = (struct uce *)ptrtab_take(&uctab, self);
	if (e)
		uce_put(e);
	cur_fibre = self;
	if (link) {
		ctxshim_ctx_t *me = ctx_capture();
		enter(link, me);
		ctx_release(me);
	}
	ctx_self.in_hook--;
	RESTORE_ERRNO;
}

/* makecontext passes its arguments as greg_t (glibc reads them so). */
typedef long long uarg;
#define FN(...) ((void (*)(__VA_ARGS__))(void (*)(void))fn)

static void tramp0(uarg self, uarg fn, uarg link)
{
	FN(void)();
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp1(uarg self, uarg fn, uarg link, uarg a)
{
	FN(uarg)(a);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp2(uarg self, uarg fn, uarg link, uarg a, uarg b)
{
	FN(uarg, uarg)(a, b);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp3(uarg self, uarg fn, uarg link, uarg a, uarg b, uarg c)
{
	FN(uarg, uarg, uarg)(a, b, c);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp4(uarg self, uarg fn, uarg link, uarg a, uarg b, uarg c, uarg d)
{
	FN(uarg, uarg, uarg, uarg)(a, b, c, d);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp5(uarg self, uarg fn, uarg link, uarg a, uarg b, uarg c, uarg d, uarg e)
{
	FN(uarg, uarg, uarg, uarg, uarg)(a, b, c, d, e);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

static void tramp6(uarg self, uarg fn, uarg link, uarg a, uarg b, uarg c, uarg d, uarg e,
		   uarg f)
{
	FN(uarg, uarg, uarg, uarg, uarg, uarg)(a, b, c, d, e, f);
	finished((const ucontext_t *)self, (const ucontext_t *)link);
}

#define MAX_ARGS 32

CTX_EXPORT void makecontext(ucontext_t *ucp, void (*fn)(void), int argc, ...)
{
	uarg a[MAX_ARGS] = { 0 };
	va_list ap;
	int n = argc < 0 ? 0 : argc > MAX_ARGS ? MAX_ARGS : argc;
	va_start(ap, argc);
	for (int i = 0; i < n; i++)
		a[i] = va_arg(ap, uarg);
	va_end(ap);
	__typeof__(real_makecontext) real = REAL(makecontext);

#define ALL a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], \
	a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], \
	a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31]
	if (!ucp || !fn || !uc_act()) {
		/* glibc reads exactly argc of these. */
		real(ucp, fn, argc, ALL);
		return;
	}
	KEEP_ERRNO;
	watch_fork_once();
	struct uce *e = calloc(1, sizeof *e);
	if (e) {
		struct ptrtab_node *stale = NULL;
		e->node.key = ucp;
		e->fibre = e->fresh = 1;
		e->own = ctx_capture();
		if (ptrtab_put(&uctab, &e->node, &stale) < 0) {
			uce_put(e);
			e = NULL;
		}
		if (stale)
			uce_put((struct uce *)stale);
	}
	RESTORE_ERRNO;
	uarg self = (uarg)(uintptr_t)ucp, f = (uarg)(uintptr_t)fn;
	uarg link = (uarg)(uintptr_t)ucp->uc_link;
	switch (e ? argc : -1) {
#define T(k) (void (*)(void))tramp##k, k + 3, self, f, link
	case 0: real(ucp, T(0)); return;
	case 1: real(ucp, T(1), a[0]); return;
	case 2: real(ucp, T(2), a[0], a[1]); return;
	case 3: real(ucp, T(3), a[0], a[1], a[2]); return;
	case 4: real(ucp, T(4), a[0], a[1], a[2], a[3]); return;
	case 5: real(ucp, T(5), a[0], a[1], a[2], a[3], a[4]); return;
	case 6: real(ucp, T(6), a[0], a[1], a[2], a[3], a[4], a[5]); return;
#undef T
	default:
		/* Started directly: its return to uc_link keeps its context. */
		real(ucp, fn, argc, ALL);
		return;
	}
#undef ALL
}
