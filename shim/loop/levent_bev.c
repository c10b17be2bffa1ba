/*
 * levent_bev.c: libevent's bufferevents.  The read, write and event
 * callbacks run in the context that was current at bufferevent_setcb (or
 * bufferevent_new).
 *
 * libevent passes the bufferevent's cbarg to the callbacks and nowhere else
 * but bufferevent_getcb, which is hooked to answer with the program's
 * callbacks and arg.  Our record (struct bew) is kept per bufferevent in a
 * side table, updated in place by each setcb (a callback may be running on
 * the loop thread meanwhile), and ends with bufferevent_free.
 */
#include "levent.h"

#include <event2/bufferevent.h>

static struct ptrtab bevtab = PTRTAB_INIT;

struct bew {
	struct ptrtab_node node;      /* key: the bufferevent */
	atomic_flag busy;             /* guards everything below */
	bufferevent_data_cb readcb, writecb;
	bufferevent_event_cb eventcb;
	void *arg;
	ctxshim_ctx_t *ctx;
};

static void bew_lock(struct bew *b) { busy_lock(&b->busy); }
static void bew_unlock(struct bew *b) { busy_unlock(&b->busy); }

/* Which callback a run is for. */
enum { BEV_READ, BEV_WRITE, BEV_EVENT };

static void bev_run(struct bufferevent *bev, struct bew *b, int which, short what)
{
	int e;
	bew_lock(b);
	bufferevent_data_cb data = which == BEV_READ ? b->readcb : b->writecb;
	bufferevent_event_cb event = b->eventcb;
	void *arg = b->arg;
	ctxshim_ctx_t *t = loop_enter(b->ctx, &e);
	bew_unlock(b);
	if (which == BEV_EVENT) {
		if (event)
			event(bev, what, arg);
	} else if (data) {
		data(bev, arg);
	}
	loop_leave(t, e);
}

static void read_run(struct bufferevent *bev, void *p) { bev_run(bev, p, BEV_READ, 0); }
static void write_run(struct bufferevent *bev, void *p) { bev_run(bev, p, BEV_WRITE, 0); }
static void event_run(struct bufferevent *bev, short what, void *p)
{
	bev_run(bev, p, BEV_EVENT, what);
}

/* fork's child: a record's lock held by a thread that is not there goes. */
static void bew_unbusy(struct ptrtab_node *n, void *arg)
{
	(void)arg;
	bew_unlock((struct bew *)n);
}

static void child_reset(void)
{
	ptrtab_each_locked(&bevtab, bew_unbusy, NULL);
}

/* The record of BEV with the program's callbacks and a fresh context. */
static struct bew *bew_bind(struct bufferevent *bev, bufferevent_data_cb r,
			    bufferevent_data_cb w, bufferevent_event_cb ev, void *arg)
{
	static atomic_int watched;
	KEEP_ERRNO;
	struct ptrtab_node *stale = NULL;
	ctxshim_ctx_t *c = ctx_capture();
	struct ptrtab_shard *s = ptrtab_shard(&bevtab, bev);
	pthread_mutex_lock(&s->lock);
	struct bew *b = (struct bew *)ptrtab_find_locked(s, bev);
	if (!b && (b = calloc(1, sizeof *b)) != NULL) {
		atomic_flag_clear(&b->busy);
		b->node.key = bev;
		if (ptrtab_put_locked(s, &b->node, &stale) < 0) {
			free(b);
			b = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (b) {
		if (!atomic_exchange(&watched, 1)) {
			ctx_fork_watch(&bevtab);
			ctx_at_fork(NULL, NULL, child_reset);
		}
		bew_lock(b);
		b->readcb = r;
		b->writecb = w;
		b->eventcb = ev;
		b->arg = arg;
		ctxshim_ctx_t *old = b->ctx;
		b->ctx = c;
		c = old;
		bew_unlock(b);
	}
	ctx_release(c);
	RESTORE_ERRNO;
	return b;
}

CTX_EXPORT void bufferevent_setcb(struct bufferevent *bev, bufferevent_data_cb r,
				  bufferevent_data_cb w, bufferevent_event_cb ev, void *arg)
{
	__typeof__(real_bufferevent_setcb) real = EV_REAL(bufferevent_setcb);
	struct bew *b;
	if (unlikely(!real))
		return;
	if (r == read_run || w == write_run || ev == event_run || !levent_act(LOOP_CALLER()) ||
	    !(b = bew_bind(bev, r, w, ev, arg))) {
		real(bev, r, w, ev, arg);
		return;
	}
	real(bev, r ? read_run : NULL, w ? write_run : NULL, ev ? event_run : NULL, b);
}

/* The old API sets the callbacks inside libevent: set them again. */
CTX_EXPORT struct bufferevent *bufferevent_new(evutil_socket_t fd, bufferevent_data_cb r,
					       bufferevent_data_cb w, bufferevent_event_cb ev,
					       void *arg)
{
	__typeof__(real_bufferevent_new) real = EV_REAL(bufferevent_new);
	__typeof__(real_bufferevent_setcb) setcb = EV_REAL(bufferevent_setcb);
	if (unlikely(!real))
		return NULL;
	struct bufferevent *bev = real(fd, r, w, ev, arg);
	struct bew *b;
	if (bev && setcb && levent_act(LOOP_CALLER()) && (b = bew_bind(bev, r, w, ev, arg)) != NULL) {
		KEEP_ERRNO;
		setcb(bev, r ? read_run : NULL, w ? write_run : NULL, ev ? event_run : NULL, b);
		RESTORE_ERRNO;
	}
	return bev;
}

CTX_EXPORT void bufferevent_getcb(struct bufferevent *bev, bufferevent_data_cb *r,
				  bufferevent_data_cb *w, bufferevent_event_cb *ev, void **arg)
{
	__typeof__(real_bufferevent_getcb) real = EV_REAL(bufferevent_getcb);
	void *theirs = NULL;
	if (unlikely(!real))
		return;
	real(bev, r, w, ev, &theirs);
	struct bew *b = (struct bew *)ptrtab_get(&bevtab, bev);
	if (b && theirs == b) {
		bew_lock(b);
		if (r)
			*r = b->readcb;
		if (w)
			*w = b->writecb;
		if (ev)
			*ev = b->eventcb;
		theirs = b->arg;
		bew_unlock(b);
	}
	if (arg)
		*arg = theirs;
}

CTX_EXPORT void bufferevent_free(struct bufferevent *bev)
{
	__typeof__(real_bufferevent_free) real = EV_REAL(bufferevent_free);
	if (unlikely(!real))
		return;
	/* libevent clears the callbacks inside: none of ours runs after. */
	real(bev);
	if (ctx_should_act()) {
		KEEP_ERRNO;
		struct bew *b = (struct bew *)ptrtab_take(&bevtab, bev);
		if (b) {
			ctx_release(b->ctx);
			free(b);
		}
		RESTORE_ERRNO;
	}
}
