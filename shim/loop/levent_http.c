/*
 * levent_http.c: libevent's HTTP client.  A request's completion
 * callback (the one given to evhttp_request_new) runs in the context that
 * was current at evhttp_make_request, as the code awaiting a response would
 * in asyncio.
 *
 * The callback's arg is shared with the request's other callbacks, so it
 * stays the program's: libevent gets our function, and our record (keyed by
 * the request) holds the program's.  When a connection fails, libevent frees
 * the request first and then calls the callback with NULL: the record of the
 * request freed last on this thread is kept for that call.
 *
 * Server-side requests are libevent's own (made inside evhttp) and pass
 * through: a server callback runs in its connection's context (CTXSHIM_CONN),
 * which a registration context would override.  The chunk, header, error
 * and on-complete callbacks run in the loop's context.
 */
#include "levent.h"

#include <event2/http.h>
#include <pthread.h>

typedef void (*req_cb)(struct evhttp_request *, void *);

struct hrq {
	struct ptrtab_node node;      /* key: the request */
	req_cb cb;
	void *arg;
	ctxshim_ctx_t *ctx;
};

static struct ptrtab reqtab = PTRTAB_INIT;
static __thread struct hrq *freed_last CTX_TLS;
static pthread_key_t freed_key;
static pthread_once_t freed_once = PTHREAD_ONCE_INIT;

static void hrq_free(struct hrq *r)
{
	if (r) {
		ctx_release(r->ctx);
		free(r);
	}
}

static void freed_drop(void *unused)
{
	(void)unused;
	hrq_free(freed_last);
	freed_last = NULL;
}

static void freed_init(void)
{
	pthread_key_create(&freed_key, freed_drop);
}

static void req_run(struct evhttp_request *req, void *arg)
{
	struct hrq *own = NULL;
	req_cb cb = NULL;
	ctxshim_ctx_t *t = NULL;
	int e = 0;
	if (req) {
		struct ptrtab_shard *s = ptrtab_shard(&reqtab, req);
		pthread_mutex_lock(&s->lock);
		struct hrq *r = (struct hrq *)ptrtab_find_locked(s, req);
		if (r) {
			cb = r->cb;
			t = loop_enter(r->ctx, &e);
		}
		pthread_mutex_unlock(&s->lock);
	} else if (freed_last && freed_last->arg == arg) {
		own = freed_last;         /* the failed request, freed just now */
		freed_last = NULL;
		cb = own->cb;
		t = loop_enter(own->ctx, &e);
	}
	if (cb)
		cb(req, arg);
	loop_leave(t, e);
	hrq_free(own);
}

CTX_EXPORT struct evhttp_request *evhttp_request_new(req_cb cb, void *arg)
{
	__typeof__(real_evhttp_request_new) real = EV_REAL(evhttp_request_new);
	struct hrq *r;
	if (unlikely(!real))
		return NULL;
	if (!cb || cb == req_run || !levent_act(LOOP_CALLER()))
		return real(cb, arg);
	KEEP_ERRNO;
	r = calloc(1, sizeof *r);
	RESTORE_ERRNO;
	if (!r)
		return real(cb, arg);
	struct evhttp_request *req = real(req_run, arg);
	if (!req) {
		free(r);
		return NULL;
	}
	saved_errno_ = errno;
	static atomic_int watched;
	struct ptrtab_node *stale = NULL;
	if (!atomic_exchange(&watched, 1))
		ctx_fork_watch(&reqtab);
	r->node.key = req;
	r->cb = cb;
	r->arg = arg;
	r->ctx = ctx_capture();
	if (ptrtab_put(&reqtab, &r->node, &stale) < 0) {
		/* Unkept, our function could not find the program's: undo. */
		__typeof__(real_evhttp_request_free) rfree = EV_REAL(evhttp_request_free);
		if (rfree)
			rfree(req);
		hrq_free(r);
		RESTORE_ERRNO;
		return real(cb, arg);
	}
	hrq_free((struct hrq *)stale);
	RESTORE_ERRNO;
	return req;
}

CTX_EXPORT int evhttp_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
				   enum evhttp_cmd_type type, const char *uri)
{
	__typeof__(real_evhttp_make_request) real = EV_REAL(evhttp_make_request);
	if (unlikely(!real))
		return -1;
	if (req && levent_act(LOOP_CALLER())) {
		KEEP_ERRNO;
		ctxshim_ctx_t *c = ctx_capture(), *old = c;
		struct ptrtab_shard *s = ptrtab_shard(&reqtab, req);
		pthread_mutex_lock(&s->lock);
		struct hrq *r = (struct hrq *)ptrtab_find_locked(s, req);
		if (r) {
			old = r->ctx;
			r->ctx = c;
		}
		pthread_mutex_unlock(&s->lock);
		ctx_release(old);
		RESTORE_ERRNO;
	}
	return real(evcon, req, type, uri);
}

/* Every free, libevent's own included: the record goes with the request. */
CTX_EXPORT void evhttp_request_free(struct evhttp_request *req)
{
	__typeof__(real_evhttp_request_free) real = EV_REAL(evhttp_request_free);
	if (unlikely(!real))
		return;
	struct hrq *r = req && ctx_cfg.ready ? (struct hrq *)ptrtab_take(&reqtab, req) : NULL;
	if (r) {
		KEEP_ERRNO;
		if (!freed_last) {
			pthread_once(&freed_once, freed_init);
			pthread_setspecific(freed_key, (void *)1);
		}
		hrq_free(freed_last);
		freed_last = r;
		RESTORE_ERRNO;
	}
	real(req);
}
