/*
 * levent_once.c: event_base_once and event_once.  The callback runs in
 * the context of the call; its record ends when it has run, or in
 * event_base_free when it never did (libevent frees such onces itself,
 * without a word).
 */
#include "levent.h"

#include <pthread.h>

/* A once-callback's record, on a list until it runs, so event_base_free can
 * end the records of those that never will. */
struct oncew {
	struct oncew *prev, *next;
	struct event_base *base;
	event_callback_fn cb;
	void *arg;
	ctxshim_ctx_t *ctx;
};

static struct oncew pending = { &pending, &pending, NULL, NULL, NULL, NULL };
static atomic_flag pending_busy = ATOMIC_FLAG_INIT;

/* fork: the list's lock is held across it. */
static void pending_take(void) { busy_lock(&pending_busy); }
static void pending_give(void) { busy_unlock(&pending_busy); }

static void once_watch_fork(void)
{
	static atomic_int done;
	if (atomic_load_explicit(&done, memory_order_relaxed) || atomic_exchange(&done, 1))
		return;
	ctx_at_fork(pending_take, pending_give, pending_give);
}

static void once_unlink(struct oncew *o)
{
	busy_lock(&pending_busy);
	o->prev->next = o->next;
	o->next->prev = o->prev;
	busy_unlock(&pending_busy);
}

/* Records are recycled per thread: a 0-timeout once is the idiom for "run
 * this soon", as frequent as the loop turns.  A thread's spares are freed
 * when it exits. */
#define SPARES 32
static __thread struct oncew *spares CTX_TLS;
static __thread int nspares CTX_TLS;
static __thread int spares_keyed CTX_TLS;
static pthread_key_t spares_key;
static pthread_once_t spares_once = PTHREAD_ONCE_INIT;

static void spares_free(void *unused)
{
	(void)unused;
	while (spares) {
		struct oncew *next = spares->next;
		free(spares);
		spares = next;
	}
	nspares = 0;
	spares_keyed = 0;
}

static void spares_init(void)
{
	pthread_key_create(&spares_key, spares_free);
}

static void once_free(struct oncew *o)
{
	if (nspares >= SPARES) {
		free(o);
		return;
	}
	if (!spares_keyed) {
		pthread_once(&spares_once, spares_init);
		spares_keyed = pthread_setspecific(spares_key, (void *)1) == 0;
	}
	o->next = spares;
	spares = o;
	nspares++;
}

static void once_run(evutil_socket_t fd, short what, void *p)
{
	struct oncew *o = p;
	event_callback_fn cb = o->cb;
	void *arg = o->arg;
	ctxshim_ctx_t *h = o->ctx;
	int e;
	once_unlink(o);
	once_free(o);
	ctxshim_ctx_t *t = loop_enter(h, &e);
	cb(fd, what, arg);
	loop_leave(t, e);
	ctx_release(h);
}

static struct oncew *once_new(struct event_base *base, event_callback_fn cb, void *arg)
{
	KEEP_ERRNO;
	once_watch_fork();
	struct oncew *o = spares;
	if (o) {
		spares = o->next;
		nspares--;
	} else {
		o = malloc(sizeof *o);
	}
	if (o) {
		o->base = base;
		o->cb = cb;
		o->arg = arg;
		o->ctx = ctx_capture();
		busy_lock(&pending_busy);
		o->next = pending.next;
		o->prev = &pending;
		pending.next->prev = o;
		pending.next = o;
		busy_unlock(&pending_busy);
	}
	RESTORE_ERRNO;
	return o;
}

static void once_drop(struct oncew *o)
{
	KEEP_ERRNO;
	once_unlink(o);
	ctx_release(o->ctx);
	once_free(o);
	RESTORE_ERRNO;
}

CTX_EXPORT int event_base_once(struct event_base *base, evutil_socket_t fd, short events,
			       event_callback_fn cb, void *arg, const struct timeval *tv)
{
	__typeof__(real_event_base_once) real = EV_REAL(event_base_once);
	struct oncew *o;
	if (unlikely(!real))
		return -1;
	if (!cb || cb == once_run || !base || !levent_act(LOOP_CALLER()) ||
	    !(o = once_new(base, cb, arg)))
		return real(base, fd, events, cb, arg, tv);
	int rc = real(base, fd, events, once_run, o, tv);
	if (rc != 0)
		once_drop(o);
	return rc;
}

/* The old API: the current base, which only libevent knows (base NULL). */
CTX_EXPORT int event_once(evutil_socket_t fd, short events, event_callback_fn cb, void *arg,
			  const struct timeval *tv)
{
	__typeof__(real_event_once) real = EV_REAL(event_once);
	struct oncew *o;
	if (unlikely(!real))
		return -1;
	if (!cb || cb == once_run || !levent_act(LOOP_CALLER()) || !(o = once_new(NULL, cb, arg)))
		return real(fd, events, cb, arg, tv);
	int rc = real(fd, events, once_run, o, tv);
	if (rc != 0)
		once_drop(o);
	return rc;
}

/* libevent frees the once-events of a base that never ran; so do we. */
static void drop_onces(struct event_base *base)
{
	struct oncew *gone = NULL;
	busy_lock(&pending_busy);
	for (struct oncew *o = pending.next, *next; o != &pending; o = next) {
		next = o->next;
		if (o->base == base) {
			o->prev->next = o->next;
			o->next->prev = o->prev;
			o->next = gone;
			gone = o;
		}
	}
	busy_unlock(&pending_busy);
	while (gone) {
		struct oncew *next = gone->next;
		ctx_release(gone->ctx);
		free(gone);
		gone = next;
	}
}

CTX_EXPORT void event_base_free(struct event_base *base)
{
	__typeof__(real_event_base_free) real = EV_REAL(event_base_free);
	if (unlikely(!real))
		return;
	real(base);
	if (ctx_should_act()) {
		KEEP_ERRNO;
		drop_onces(base);
		RESTORE_ERRNO;
	}
}

CTX_EXPORT void event_base_free_nofinalize(struct event_base *base)
{
	__typeof__(real_event_base_free_nofinalize) real = EV_REAL(event_base_free_nofinalize);
	if (unlikely(!real))
		return;
	real(base);
	if (ctx_should_act()) {
		KEEP_ERRNO;
		drop_onces(base);
		RESTORE_ERRNO;
	}
}
