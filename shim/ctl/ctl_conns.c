/*
 * ctl_conns.c: the "conns" answer: the connections the sockets family
 * watches (CTXSHIM_CONN / CTXSHIM_HTTP) and the requests in flight on each,
 * a request being in flight from its head being read until its response
 * ends.
 *
 * Each connection's slot is locked only to take references on its contexts
 * and copy a few fields (net_each_inbound); the entries are read, and the
 * answer written, after the lock is let go.
 */
#include "ctl.h"
#include "net.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQS_SHOWN 8    /* requests listed per connection; the rest counted */

#define PATH_SHOWN 256    /* of a request still waiting (not yet applied) */

struct req_seen {
	ctxshim_ctx_t *ctx;      /* a reference (applied request), or NULL */
	uint64_t t_ns;
	char id[HTTP_ID_MAX + 1];
	/* A waiting request has no context yet: its fields, copied. */
	char method[HTTP_METHOD_MAX + 1];
	char path[PATH_SHOWN + 1];
	char trace_id[33];
};

struct conn_seen {
	int fd;
	uint64_t opened_ns;
	ctxshim_ctx_t *base;     /* a reference: conn_id, peer */
	unsigned nreq, more;
	struct req_seen req[REQS_SHOWN];
};

struct gather {
	struct conn_seen *v;
	size_t n, cap;
	size_t missed;           /* connections opened since the count */
};

/* Under the slot lock: references and copies only. */
static void gather_one(int fd, struct net_conn *c, void *arg)
{
	struct gather *g = arg;
	if (g->n == g->cap) {
		g->missed++;
		return;
	}
	struct conn_seen *s = &g->v[g->n++];
	s->fd = fd;
	s->opened_ns = c->opened_ns;
	s->base = ctx_ref(c->base);
	s->nreq = s->more = 0;
	for (unsigned i = 0;; i++) {
		struct net_req *r = net_ring_at(c, i);
		if (!r)
			break;
		if (s->nreq == REQS_SHOWN) {
			s->more++;
			continue;
		}
		struct req_seen *q = &s->req[s->nreq++];
		/* Once applied, the request's context is the connection's. */
		q->ctx = r->applied ? ctx_ref(c->ctx) : NULL;
		q->t_ns = r->t_ns;
		memcpy(q->id, net_req_id(r), (size_t)r->idlen + 1);
		memcpy(q->method, net_req_method(r), (size_t)r->method_len + 1);
		size_t pl = r->path_len < PATH_SHOWN ? r->path_len : PATH_SHOWN;
		memcpy(q->path, net_req_path(r), pl);
		q->path[pl] = '\0';
		q->trace_id[0] = '\0';
		if (r->tp)
			memcpy(q->trace_id, net_req_trace(r), 33);
	}
}

static void count_one(int fd, struct net_conn *c, void *arg)
{
	(void)fd, (void)c;
	++*(size_t *)arg;
}

/* KEY's value in M as a JSON string member, or nothing. */
static void put_entry(struct jbuf *b, const struct cmap *m, const char *json_key, const char *key)
{
	const struct cmap_entry *e = cmap_find(m, key, strlen(key));
	if (!e || e->tomb)
		return;
	jb_key(b, json_key);
	jb_str(b, e->val, e->vlen);
}

static uint64_t age_ms(uint64_t now, uint64_t then)
{
	return now > then ? (now - then) / 1000000u : 0;
}

static void put_conn(struct jbuf *b, const struct conn_seen *s, uint64_t now)
{
	struct cmap *m = NULL;
	jb_comma(b);
	jb_raw(b, "{", 1);
	jb_key(b, "fd");
	jb_int(b, s->fd);
	if (ctx_view(s->base, &m) == 0) {
		put_entry(b, m, "conn_id", "conn_id");
		put_entry(b, m, "peer", "peer");
		cmap_unref(m);
	}
	jb_key(b, "age_ms");
	jb_uint(b, age_ms(now, s->opened_ns));
	jb_key(b, "requests");
	jb_raw(b, "[", 1);
	for (unsigned i = 0; i < s->nreq; i++) {
		const struct req_seen *q = &s->req[i];
		jb_comma(b);
		jb_raw(b, "{", 1);
		jb_key(b, "request_id");
		jb_cstr(b, q->id);
		m = NULL;
		if (q->ctx && ctx_view(q->ctx, &m) == 0) {
			put_entry(b, m, "method", "request_method");
			put_entry(b, m, "path", "request_path");
			put_entry(b, m, "trace_id", "trace_id");
			cmap_unref(m);
		} else if (!q->ctx) {
			jb_key(b, "method");
			jb_cstr(b, q->method);
			jb_key(b, "path");
			jb_cstr(b, q->path);
			if (q->trace_id[0]) {
				jb_key(b, "trace_id");
				jb_cstr(b, q->trace_id);
			}
		}
		jb_key(b, "age_ms");
		jb_uint(b, age_ms(now, q->t_ns));
		jb_raw(b, "}", 1);
	}
	jb_raw(b, "]", 1);
	if (s->more) {
		jb_key(b, "more_requests");
		jb_uint(b, s->more);
	}
	jb_raw(b, "}", 1);
}

void ctl_conns_answer(struct jbuf *b)
{
	struct gather g = { NULL, 0, 0, 0 };
	size_t count = 0;

	if (net_cfg.conn) {
		/* Room taken before any slot is locked (no allocation there). */
		net_each_inbound(count_one, &count);
		net_tls_each(count_one, &count);
		g.cap = count + 16;
		g.v = malloc(g.cap * sizeof *g.v);
		if (!g.v) {
			ctl_answer_error(b, "out of memory");
			return;
		}
		net_each_inbound(gather_one, &g);
		net_tls_each(gather_one, &g);      /* HTTPS (net_tls.c) */
	}
	uint64_t now = net_now_ns();
	jb_lit(b, "{\"ok\":true");
	jb_key(b, "pid");
	jb_int(b, getpid());
	jb_key(b, "watching");
	jb_lit(b, net_cfg.conn ? "true" : "false");
	jb_key(b, "http");
	jb_lit(b, net_cfg.http ? "true" : "false");
	jb_key(b, "conns");
	jb_raw(b, "[", 1);
	for (size_t i = 0; i < g.n; i++)
		put_conn(b, &g.v[i], now);
	jb_raw(b, "]", 1);
	if (g.missed) {
		jb_key(b, "not_listed");
		jb_uint(b, g.missed);
	}
	jb_lit(b, "}\n");
	for (size_t i = 0; i < g.n; i++) {
		ctx_release(g.v[i].base);
		for (unsigned k = 0; k < g.v[i].nreq; k++)
			ctx_release(g.v[i].req[k].ctx);
	}
	free(g.v);
}
