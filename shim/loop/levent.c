/*
 * levent.c: libevent's events.  A callback runs in the context that was
 * current at event_add (re-captured on every add, kept by persistent events
 * across runs), or at event_active for the run that activation causes;
 * event_base_once's callback in the context of its caller
 * (levent_once.c).  bufferevents: levent_bev.c; HTTP requests:
 * levent_http.c.
 *
 * libevent stores (callback, arg) in the event and passes arg back to the
 * callback; we hand it our trampoline and a record (struct evw) holding the
 * program's pair.  That record is what libevent's getters would now reveal,
 * so event_get_callback, event_get_callback_arg and event_get_assignment are
 * hooked to answer with the program's pair, and event_self_cbarg() is
 * resolved to the event itself as libevent would.  Finalizers, which
 * libevent calls with the event's arg, get the program's arg too.
 *
 * Records are kept in a side table keyed by the event's address, so
 * event_assign on memory that held an event before reuses or replaces what
 * we knew, and never trusts stale bytes in the program's struct.
 *
 * Lifetimes: a non-persistent event's context is released when it has run
 * (unless re-added meanwhile); event_del releases a pending one; event_free
 * and the finalizers end the record.  An event_assign'ed struct the program
 * frees without event_del keeps only its small record (no context) until
 * the address is assigned again.
 */
#define HOOKS_LIB_DEFINE /* this file defines libevent's real_* pointers */
#include "levent.h"

static struct ptrtab evtab = PTRTAB_INIT;

struct evw {
	struct ptrtab_node node;          /* key: the event */
	event_callback_fn cb;
	void *arg;
	event_finalize_callback_fn fin;
	int keep;                         /* persistent (or signal): runs again */
	atomic_flag busy;                 /* guards ctx and act */
	ctxshim_ctx_t *ctx;               /* event_add's */
	ctxshim_ctx_t *act;               /* event_active's, for one run */
};

static void *self_cbarg(void)
{
	static void *(*fn)(void);
	if (!fn)
		fn = (void *(*)(void))hooks_lib_sym(hooks_libs_levent, "event_self_cbarg");
	return fn ? fn() : NULL;
}

/* The record behind EV when the event is ours (our trampoline in it). */
static void levent_run(evutil_socket_t fd, short what, void *p);

static struct evw *evw_of(const struct event *ev)
{
	event_callback_fn (*get_cb)(const struct event *) = EV_REAL(event_get_callback);
	void *(*get_arg)(const struct event *) = EV_REAL(event_get_callback_arg);
	if (!get_cb || !get_arg || get_cb(ev) != levent_run)
		return NULL;
	return get_arg(ev);
}

static void evw_free(struct evw *w)
{
	if (!w)
		return;
	ctx_release(w->ctx);
	ctx_release(w->act);
	free(w);
}

/* Take the contexts out of W (under its lock) and release them. */
static void evw_clear(struct evw *w)
{
	busy_lock(&w->busy);
	ctxshim_ctx_t *c = w->ctx, *a = w->act;
	w->ctx = w->act = NULL;
	busy_unlock(&w->busy);
	ctx_release(c);
	ctx_release(a);
}

static struct evw *evw_alloc(void)
{
	KEEP_ERRNO;
	struct evw *w = calloc(1, sizeof *w);
	if (w)
		atomic_flag_clear(&w->busy);
	RESTORE_ERRNO;
	return w;
}

static void evw_set(struct evw *w, struct event *ev, event_callback_fn cb, void *arg,
		    short events)
{
	w->cb = cb;
	w->arg = arg == self_cbarg() ? (void *)ev : arg;
	w->fin = NULL;
	w->keep = (events & (EV_PERSIST | EV_SIGNAL)) != 0;
}

/* fork's child: a record's lock held by a thread that is not there goes. */
static void evw_unbusy(struct ptrtab_node *n, void *arg)
{
	(void)arg;
	busy_unlock(&((struct evw *)n)->busy);
}

static void child_reset(void)
{
	ptrtab_each_locked(&evtab, evw_unbusy, NULL);
}

static void levent_watch_fork(void)
{
	static atomic_int done;
	if (atomic_load_explicit(&done, memory_order_relaxed) || atomic_exchange(&done, 1))
		return;
	ctx_fork_watch(&evtab);
	ctx_at_fork(NULL, NULL, child_reset);
}

/* Keep W as the record of EV; a record left there for the same address (an
 * event_assign'ed struct freed without a word to libevent) is dropped. */
static void evw_keep(struct event *ev, struct evw *w)
{
	struct ptrtab_node *stale = NULL;
	levent_watch_fork();
	w->node.key = ev;
	if (ptrtab_put(&evtab, &w->node, &stale) < 0)
		w->node.key = NULL;     /* not kept: freed with its event only */
	if (stale != &w->node)
		evw_free((struct evw *)stale);
}

/* The record for EV about to be assigned: the one kept for that address
 * (libevent forbids assigning a pending event, so none of it is in use),
 * else a new one. */
static struct evw *evw_reuse(struct event *ev)
{
	struct evw *w = (struct evw *)ptrtab_get(&evtab, ev);
	if (w) {
		evw_clear(w);
		return w;
	}
	w = evw_alloc();
	if (w)
		evw_keep(ev, w);
	return w;
}

static void evw_forget(struct event *ev)
{
	KEEP_ERRNO;
	evw_free((struct evw *)ptrtab_take(&evtab, ev));
	RESTORE_ERRNO;
}

/* ---- running ---------------------------------------------------------- */

/* Everything the run needs after the callback lives on this stack: the
 * callback may free its event (and so our record) or assign it anew. */
static void levent_run(evutil_socket_t fd, short what, void *p)
{
	struct evw *w = p;
	ctxshim_ctx_t *own = NULL, *own2 = NULL, *h;
	int e;

	busy_lock(&w->busy);
	event_callback_fn cb = w->cb;
	void *arg = w->arg;
	if (w->act) {
		h = own = w->act;
		w->act = NULL;
	} else {
		h = w->ctx;
	}
	if (!w->keep) {       /* a one-shot run: its add context ends here */
		own2 = w->ctx;
		w->ctx = NULL;
		if (!own)
			own = own2, own2 = NULL;
	}
	ctxshim_ctx_t *t = loop_enter(h, &e);
	busy_unlock(&w->busy);
	cb(fd, what, arg);
	loop_leave(t, e);
	ctx_release(own);
	ctx_release(own2);
}

/* Finalizers get the program's arg, and end the record (a finalizer may
 * assign the event anew: the old record is out of the table by then). */
static void fin_run(struct event *ev, void *p)
{
	struct evw *w = p;
	event_finalize_callback_fn fin = w->fin;
	void *arg = w->arg;
	struct ptrtab_node *kept = ptrtab_take(&evtab, ev);
	if (fin)
		fin(ev, arg);
	if (kept && kept != &w->node)
		evw_free((struct evw *)kept);
	evw_free(w);
}

/* ---- creation ------------------------------------------------------------ */

CTX_EXPORT struct event *event_new(struct event_base *base, evutil_socket_t fd, short events,
				   event_callback_fn cb, void *arg)
{
	__typeof__(real_event_new) real = EV_REAL(event_new);
	struct evw *w;
	if (unlikely(!real))
		return NULL;
	if (!cb || cb == levent_run || !levent_act(LOOP_CALLER()) || !(w = evw_alloc()))
		return real(base, fd, events, cb, arg);
	struct event *ev = real(base, fd, events, levent_run, w);
	if (!ev) {
		free(w);
		return NULL;
	}
	KEEP_ERRNO;
	evw_set(w, ev, cb, arg, events);
	evw_keep(ev, w);
	RESTORE_ERRNO;
	return ev;
}

CTX_EXPORT int event_assign(struct event *ev, struct event_base *base, evutil_socket_t fd,
			    short events, event_callback_fn cb, void *arg)
{
	__typeof__(real_event_assign) real = EV_REAL(event_assign);
	struct evw *w;
	if (unlikely(!real))
		return -1;
	if (!cb || cb == levent_run || !levent_act(LOOP_CALLER()) || !(w = evw_reuse(ev)))
		return real(ev, base, fd, events, cb, arg);
	evw_set(w, ev, cb, arg, events);
	int rc = real(ev, base, fd, events, levent_run, w);
	if (rc < 0)
		evw_forget(ev);
	return rc;
}

/* The old API (memcached's): event_set assigns to the current base. */
CTX_EXPORT void event_set(struct event *ev, evutil_socket_t fd, short events,
			  event_callback_fn cb, void *arg)
{
	__typeof__(real_event_set) real = EV_REAL(event_set);
	struct evw *w;
	if (unlikely(!real))
		return;
	if (!cb || cb == levent_run || !levent_act(LOOP_CALLER()) || !(w = evw_reuse(ev))) {
		real(ev, fd, events, cb, arg);
		return;
	}
	evw_set(w, ev, cb, arg, events);
	real(ev, fd, events, levent_run, w);
}

/* ---- scheduling ---------------------------------------------------------- */

/* Store a fresh capture in *SLOT of W (under its lock). */
static void evw_capture(struct evw *w, int active)
{
	KEEP_ERRNO;
	ctxshim_ctx_t **slot = active ? &w->act : &w->ctx;
	ctxshim_ctx_t *c = NULL, *old;
	busy_lock(&w->busy);
	/* A re-add from the context it has (a persistent event re-armed from
	 * its own callback, memcached's update_event) keeps its reference. */
	if (*slot && ctx_is_current(*slot)) {
		busy_unlock(&w->busy);
		return;
	}
	busy_unlock(&w->busy);
	c = ctx_capture();
	busy_lock(&w->busy);
	old = *slot;
	*slot = c;
	busy_unlock(&w->busy);
	ctx_release(old);
	RESTORE_ERRNO;
}

CTX_EXPORT int event_add(struct event *ev, const struct timeval *tv)
{
	__typeof__(real_event_add) real = EV_REAL(event_add);
	if (unlikely(!real))
		return -1;
	if (levent_act(LOOP_CALLER())) {
		struct evw *w = evw_of(ev);
		if (w)
			evw_capture(w, 0);
	}
	return real(ev, tv);
}

CTX_EXPORT void event_active(struct event *ev, int res, short ncalls)
{
	__typeof__(real_event_active) real = EV_REAL(event_active);
	if (unlikely(!real))
		return;
	if (levent_act(LOOP_CALLER())) {
		struct evw *w = evw_of(ev);
		if (w)
			evw_capture(w, 1);
	}
	real(ev, res, ncalls);
}

/* A deleted event will not run: what it captured goes now. */
#define DEL(name) do { \
	__typeof__(real_##name) real_ = EV_REAL(name); \
	if (unlikely(!real_)) \
		return -1; \
	int rc_ = real_(ev); \
	if (levent_act(LOOP_CALLER())) { \
		int saved_ = errno; \
		struct evw *w_ = evw_of(ev); \
		if (w_) \
			evw_clear(w_); \
		errno = saved_; \
	} \
	return rc_; \
} while (0)

CTX_EXPORT int event_del(struct event *ev) { DEL(event_del); }
CTX_EXPORT int event_del_block(struct event *ev) { DEL(event_del_block); }
CTX_EXPORT int event_del_noblock(struct event *ev) { DEL(event_del_noblock); }

/* ---- the end of an event ------------------------------------------------- */

CTX_EXPORT void event_free(struct event *ev)
{
	__typeof__(real_event_free) real = EV_REAL(event_free);
	if (unlikely(!real))
		return;
	if (!ctx_should_act() || !ev) {
		real(ev);
		return;
	}
	/* Our record goes after libevent's free: event_del inside it waits for
	 * a run on another thread; a run on this thread (an event freeing
	 * itself from its callback) no longer looks at the record. */
	struct evw *w = evw_of(ev);
	real(ev);
	if (w) {
		KEEP_ERRNO;
		struct ptrtab_node *n = ptrtab_take(&evtab, ev);
		if (n && n != &w->node)
			evw_free((struct evw *)n);
		evw_free(w);
		RESTORE_ERRNO;
	}
}

#define FINALIZE(name) do { \
	__typeof__(real_##name) real_ = EV_REAL(name); \
	if (unlikely(!real_)) \
		return -1; \
	struct evw *w_ = ctx_should_act() ? evw_of(ev) : NULL; \
	if (!w_ || cb == fin_run) \
		return real_(flags, ev, cb); \
	w_->fin = cb; \
	return real_(flags, ev, fin_run); \
} while (0)

CTX_EXPORT int event_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb)
{
	FINALIZE(event_finalize);
}

CTX_EXPORT int event_free_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb)
{
	FINALIZE(event_free_finalize);
}

/* ---- what the program may ask back --------------------------------------- */

CTX_EXPORT event_callback_fn event_get_callback(const struct event *ev)
{
	__typeof__(real_event_get_callback) real = EV_REAL(event_get_callback);
	if (unlikely(!real))
		return NULL;
	event_callback_fn cb = real(ev);
	return cb == levent_run ? evw_of(ev)->cb : cb;
}

CTX_EXPORT void *event_get_callback_arg(const struct event *ev)
{
	__typeof__(real_event_get_callback_arg) real = EV_REAL(event_get_callback_arg);
	if (unlikely(!real))
		return NULL;
	struct evw *w = evw_of(ev);
	return w ? w->arg : real(ev);
}

CTX_EXPORT void event_get_assignment(const struct event *ev, struct event_base **base,
				     evutil_socket_t *fd, short *events,
				     event_callback_fn *cb, void **arg)
{
	__typeof__(real_event_get_assignment) real = EV_REAL(event_get_assignment);
	if (unlikely(!real))
		return;
	real(ev, base, fd, events, cb, arg);
	struct evw *w = evw_of(ev);
	if (w) {
		if (cb)
			*cb = w->cb;
		if (arg)
			*arg = w->arg;
	}
}
