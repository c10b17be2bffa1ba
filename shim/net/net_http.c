/*
 * net_http.c: what a program writes on a watched connection.
 *
 * Inbound connections (CTXSHIM_HTTP): each response is matched to the oldest
 * request still unanswered; when it starts, that request's context becomes
 * the connection's (pipelining), and with CTXSHIM_HTTP_ECHO its id is added
 * as a header line unless the server sent one.  Outbound connections
 * (CTXSHIM_HTTP_PROPAGATE): each request gets the writing thread's
 * request_id and traceparent unless the program set them.
 *
 * Adding bytes to a stream the program writes: the head is scanned first
 * (a "plan" on a copy of the scanner) to find where its blank line starts;
 * the kernel is given the program's bytes before it, the added line, and
 * the bytes after it (up to the next head end, so one call adds at most one
 * line), in one sendmsg.  The program is told only how many of its own bytes
 * went out; a line the kernel took only part of is finished before any
 * later byte of the program.  So the stream keeps every byte in order, the
 * count never exceeds what the program gave, and a short write is an honest
 * one.  Then the real scanner is moved over exactly the bytes that were
 * taken ("commit").  Streams that are not HTTP pass untouched: the scanner
 * gives up on them before anything could be added.
 */
#include "net.h"

#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/sendfile.h>

#define NONE SIZE_MAX
#define NET_IOV_MAX 64     /* program pieces one added-line call carries */

/* The program's bytes of one call. */
struct prog {
	const struct iovec *iov;
	int cnt;
	struct iovec one;
	size_t total;
};

#define PLAN_EVENTS 16

struct plan {
	size_t inj_at;       /* program offset of the blank line; NONE: no line */
	size_t stop_at;      /* this call writes no further */
	size_t inj_len;
	/* What the plan saw, so that when the kernel takes every byte the
	 * commit replays it instead of scanning again. */
	int whole;           /* the plan scanned all the bytes, events fit */
	unsigned nev;
	uint8_t ev[PLAN_EVENTS];   /* EV_APPLY, EV_POP, EV_PASS */
	struct http_tx after;
	char inj[NET_INJ_MAX];
};

enum { EV_APPLY = 1, EV_POP, EV_PASS };

static void note(struct plan *pl, int e)
{
	if (pl->nev < PLAN_EVENTS)
		pl->ev[pl->nev] = (uint8_t)e;
	else
		pl->whole = 0;
	pl->nev++;
}

static int prog_of(const struct net_call *k, struct prog *p)
{
	switch (k->how) {
	case NET_WRITE:
	case NET_SEND:
	case NET_SENDTO:
		p->one.iov_base = (void *)k->buf;
		p->one.iov_len = k->n;
		p->iov = &p->one;
		p->cnt = 1;
		break;
	case NET_WRITEV:
		p->iov = k->iov;
		p->cnt = k->cnt;
		break;
	default:
		if (!k->msg)
			return 0;
		p->iov = k->msg->msg_iov;
		p->cnt = k->msg->msg_iovlen > INT_MAX ? -1 : (int)k->msg->msg_iovlen;
		break;
	}
	if (p->cnt < 0 || p->cnt > IOV_MAX || (p->cnt && !p->iov))
		return 0;     /* the kernel will say what is wrong */
	p->total = 0;
	for (int i = 0; i < p->cnt; i++) {
		if (p->iov[i].iov_len > SSIZE_MAX - p->total)
			return 0;
		p->total += p->iov[i].iov_len;
	}
	return 1;
}

/* The program's own call, untouched. */
static ssize_t orig(int fd, const struct net_call *k)
{
	switch (k->how) {
	case NET_WRITE:
		return REAL(write)(fd, k->buf, k->n);
	case NET_WRITEV:
		return REAL(writev)(fd, k->iov, k->cnt);
	case NET_SEND:
		return REAL(send)(fd, k->buf, k->n, k->flags);
	case NET_SENDTO:
		return REAL(sendto)(fd, k->buf, k->n, k->flags, k->addr, k->alen);
	default:
		return REAL(sendmsg)(fd, k->msg, k->flags);
	}
}

/* ---- what to add ---------------------------------------------------------- */

static size_t add_line(char *out, size_t len, const char *name, size_t nlen,
		       const char *val, size_t vlen, int crlf)
{
	size_t need = nlen + 2 + vlen + (crlf ? 2 : 1);
	if (len + need > NET_INJ_MAX)
		return len;
	memcpy(out + len, name, nlen);
	len += nlen;
	out[len++] = ':';
	out[len++] = ' ';
	memcpy(out + len, val, vlen);
	len += vlen;
	if (crlf)
		out[len++] = '\r';
	out[len++] = '\n';
	return len;
}

/* An outgoing request: the writing thread's id and trace, when valid. */
static size_t outbound_lines(const struct http_tx *t, char *out)
{
	char id[HTTP_ID_MAX + 2];
	size_t len = 0;
	if (!t->has_id) {
		ssize_t n = ctx_lookup("request_id", 10, id, sizeof id);
		if (n > 0 && http_id_valid(id, (size_t)n))
			len = add_line(out, len, net_cfg.idname, net_cfg.idname_len, id,
				       (size_t)n, t->crlf);
	}
	if (!t->has_tp) {
		char tp[64], tid[33], sid[17], fl[3], fresh[33];
		if (ctx_lookup("trace_id", 8, tid, sizeof tid) != 32)
			return len;
		if (ctx_lookup("span_id", 7, sid, sizeof sid) != 16) {
			ctx_new_id(fresh);
			memcpy(sid, fresh, 17);
			sid[16] = '\0';
		}
		if (ctx_lookup("trace_flags", 11, fl, sizeof fl) != 2)
			memcpy(fl, "01", 3);
		memcpy(tp, "00-", 3);
		memcpy(tp + 3, tid, 32);
		tp[35] = '-';
		memcpy(tp + 36, sid, 16);
		tp[52] = '-';
		memcpy(tp + 53, fl, 2);
		/* Built from context values: pass it on only if it is a valid one. */
		if (http_traceparent_parse(tp, 55, tid, sid, fl))
			len = add_line(out, len, "traceparent", 11, tp, 55, t->crlf);
	}
	return len;
}

/* ---- scanning ------------------------------------------------------------- */

static int is_final(const struct http_tx *t)
{
	return t->status >= 200 || t->status == 101;
}

/* At the blank line of a head, program offset POS.  J: the queue position
 * of the response in plan mode.  Returns 1 to stop the plan here. */
static int at_head_end(struct net_conn *c, struct http_tx *t, size_t pos, struct plan *pl,
		       int commit, unsigned j)
{
	char lines[NET_INJ_MAX];
	size_t len = 0;
	if (!t->requests) {
		struct net_req *r = is_final(t) ? net_ring_at(c, commit ? 0 : j) : NULL;
		if (r) {
			t->no_body = r->head;
			t->tunnel = r->connect && t->status / 100 == 2;
		} else if (is_final(t)) {
			/* A response to no request we read (one the parser gave up
			 * on, or never saw): whether it has a body (HEAD?) is
			 * unknown, so where the next head starts is too. */
			if (commit)
				c->tx_pass = 1;
			else
				note(pl, EV_PASS);
			return 1;
		}
		if (commit) {
			/* This response's request is the one being served now. */
			if (r)
				net_apply(c, r);
			return 0;
		}
		if (r)
			note(pl, EV_APPLY);
		if (!net_cfg.echo || !r || t->has_id)
			return 0;
		len = add_line(lines, 0, net_cfg.idname, net_cfg.idname_len, net_req_id(r),
			       r->idlen, t->crlf);
	} else {
		if (commit || !net_cfg.propagate)
			return 0;
		len = outbound_lines(t, lines);
	}
	if (!len)
		return 0;
	if (pl->inj_at != NONE) {
		pl->stop_at = pos;
		pl->whole = 0;
		return 1;
	}
	pl->inj_at = pos;
	pl->inj_len = len;
	memcpy(pl->inj, lines, len);
	return 0;
}

static void at_done(struct net_conn *c, struct http_tx *t, struct plan *pl, int commit,
		    unsigned *j)
{
	if (t->requests || !is_final(t))
		return;
	if (commit) {
		net_ring_pop(c);
	} else {
		(*j)++;
		note(pl, EV_POP);
	}
}

/* Move T over program bytes [0, TO).  Plan mode (!COMMIT) looks for where
 * to add a line; commit mode applies what the bytes mean.  HEAD_AT_TO: the
 * blank line at TO must be reported too (a line was added there although
 * no program byte after it went out). */
static void walk(struct net_conn *c, struct http_tx *t, const struct prog *p, size_t to,
		 struct plan *pl, int commit, int head_at_to)
{
	unsigned j = 0;
	size_t off = 0;
	for (int i = 0; i < p->cnt && off <= to; i++) {
		const char *b = p->iov[i].iov_base;
		size_t len = p->iov[i].iov_len, s = 0;
		size_t end = off + len > to ? to - off : len;
		while (s < end) {
			int ev;
			s += http_tx_scan(t, b + s, end - s, &ev);
			if (ev == HTTP_HEAD_END) {
				if (at_head_end(c, t, off + s, pl, commit, j))
					return;
			} else if (ev == HTTP_DONE) {
				at_done(c, t, pl, commit, &j);
			} else if (ev == HTTP_PASS) {
				if (commit)
					c->tx_pass = 1;
				else
					note(pl, EV_PASS);
				return;
			}
		}
		if (head_at_to && off + end == to && end < len) {
			int ev;
			if (http_tx_scan(t, b + end, 1, &ev) == 0 && ev == HTTP_HEAD_END)
				at_head_end(c, t, to, pl, commit, j);
			return;
		}
		off += len;
	}
}

/* ---- the calls ------------------------------------------------------------- */

/* Append the pieces of program bytes [FROM, TO) to V; returns the offset
 * reached (less than TO when V is full). */
static size_t add_range(struct iovec *v, int *nv, int cap, const struct prog *p, size_t from,
			size_t to)
{
	size_t off = 0;
	for (int i = 0; i < p->cnt && off < to; i++) {
		size_t len = p->iov[i].iov_len;
		if (off + len > from && len) {
			size_t a = from > off ? from - off : 0;
			size_t b = off + len > to ? to - off : len;
			if (*nv == cap)
				return off + a;
			v[*nv].iov_base = (char *)p->iov[i].iov_base + a;
			v[*nv].iov_len = b - a;
			(*nv)++;
		}
		off += len;
	}
	return to;
}

/* Finish a line the kernel took only part of, before any program byte.
 * 0 when done (or nothing to do), -1 with errno when it could not be. */
static int flush_pending(int fd, struct net_conn *c, unsigned gen, int flags)
{
	char buf[NET_INJ_MAX];
	for (;;) {
		net_lock(c);
		size_t n = 0;
		if (atomic_load(&c->gen) == gen && c->h && c->h->pend_len) {
			n = c->h->pend_len;
			memcpy(buf, c->h->pend + c->h->pend_off, n);
		}
		net_unlock(c);
		if (!n)
			return 0;
		ssize_t w = REAL(send)(fd, buf, n, MSG_NOSIGNAL | (flags & MSG_DONTWAIT));
		if (w < 0)
			return -1;
		net_lock(c);
		if (atomic_load(&c->gen) == gen && c->h && c->h->pend_len >= (size_t)w) {
			c->h->pend_off += (size_t)w;
			c->h->pend_len -= (size_t)w;
		}
		net_unlock(c);
	}
}

/* With C locked: should this write be followed, and may a line be added? */
static struct net_http *following(struct net_conn *c, const struct net_call *k, int *may_add)
{
	int kind = atomic_load(&c->kind);
	*may_add = 0;
	if (c->h && c->h->pend_len)
		return c->h;     /* a line to finish first, whatever else holds */
	if (c->tx_pass || !(kind == NET_OUT ? net_cfg.propagate : kind == NET_IN && net_cfg.http))
		return NULL;
	/* Made at accept or connect: a write (perhaps in a signal handler)
	 * never allocates. */
	struct net_http *h = c->h;
	if (!h) {
		c->tx_pass = 1;
		return NULL;
	}
	/* Ancillary data travels with the first byte of a call, and zero-copy
	 * pages must stay the program's: such calls are never merged with ours. */
	int plain = !(k->how == NET_SENDMSG && k->msg->msg_controllen) &&
		    !(k->flags & (MSG_ZEROCOPY | MSG_OOB));
	*may_add = plain && (kind == NET_OUT || net_cfg.echo);
	return h;
}

/* After the kernel took TAKEN program bytes (and, with ADDED, the line
 * planned at PL->inj_at, of which LINE_SENT bytes). */
static void commit(struct net_conn *c, unsigned gen, const struct prog *p, size_t taken,
		   const struct plan *pl, int added, size_t line_sent)
{
	net_lock(c);
	if (atomic_load(&c->gen) == gen) {
		int kind = atomic_load(&c->kind);
		if (c->h && !c->tx_pass && pl->whole && taken == p->total &&
		    (!added || line_sent == pl->inj_len)) {
			/* Everything went: the plan's view is the truth. */
			http_tx_copy(&c->h->tx, &pl->after);
			for (unsigned e = 0; e < pl->nev; e++) {
				if (pl->ev[e] == EV_APPLY && net_ring_at(c, 0))
					net_apply(c, net_ring_at(c, 0));
				else if (pl->ev[e] == EV_POP)
					net_ring_pop(c);
				else if (pl->ev[e] == EV_PASS)
					c->tx_pass = 1;
			}
		} else if (c->h && !c->tx_pass) {
			struct plan dummy;
			dummy.inj_at = NONE;
			walk(c, &c->h->tx, p, added ? pl->inj_at : taken, &dummy, 1, added);
			if (added) {
				if (line_sent < pl->inj_len) {
					c->h->pend_off = 0;
					c->h->pend_len = pl->inj_len - line_sent;
					memcpy(c->h->pend, pl->inj + line_sent, c->h->pend_len);
				}
				/* Then the program bytes after the line.  The scanner
				 * stands in front of the blank line, already reported. */
				if (taken > pl->inj_at && !c->tx_pass) {
					struct prog rest;
					struct iovec v[NET_IOV_MAX + 1];
					int nv = 0;
					add_range(v, &nv, NET_IOV_MAX + 1, p, pl->inj_at, taken);
					rest.iov = v;
					rest.cnt = nv;
					rest.total = taken - pl->inj_at;
					walk(c, &c->h->tx, &rest, rest.total, &dummy, 1, 0);
				}
			}
		}
		if (kind == NET_IN)
			net_enter(c);
	}
	net_unlock(c);
}

/* The connection's output is not followed and the thread already is in
 * its context: the program's call and a few loads.  1 when it was made (its
 * result in *R), 0 when net_out must plan. */
static int out_unfollowed(int fd, struct net_conn *c, const struct net_call *k, ssize_t *r)
{
	int kind = atomic_load_explicit(&c->kind, memory_order_relaxed);
	if (kind != NET_IN ||
	    (net_cfg.http && !atomic_load_explicit(&c->tx_pass, memory_order_relaxed)) ||
	    !net_already_in(c))
		return 0;
	int pend = 0;
	if (net_cfg.http) {     /* without HTTP there is never a line to finish */
		net_lock(c);
		pend = c->h && c->h->pend_len;
		net_unlock(c);
	}
	if (!pend) {
		*r = orig(fd, k);
		return 1;
	}
	if (net_flush(fd) < 0) {
		*r = -1;
		return 1;
	}
	return 0;
}

/* Under the connection's lock: where the line goes in P (PL), the
 * connection's generation (*GEN), and whether a line of ours is still owed
 * (the return value). */
static int out_plan(struct net_conn *c, const struct net_call *k, const struct prog *p,
		    struct plan *pl, unsigned *gen)
{
	int may_add;
	ctx_self.in_hook++;
	net_lock(c);
	*gen = atomic_load(&c->gen);
	struct net_http *h = following(c, k, &may_add);
	int pend = h && h->pend_len;
	/* A new request head on an outbound connection: the request it is for
	 * becomes the thread's, and so its id is the one added. */
	if (h && !pend && atomic_load_explicit(&c->kind, memory_order_relaxed) == NET_OUT &&
	    net_cfg.propagate && http_tx_idle(&h->tx))
		net_out_bind(c);
	pl->inj_at = NONE;
	pl->stop_at = p->total;
	pl->whole = 0;
	pl->nev = 0;
	if (h && may_add && !pend) {
		http_tx_copy(&pl->after, &h->tx);
		pl->whole = 1;
		walk(c, &pl->after, p, p->total, pl, 0, 0);
	}
	net_unlock(c);
	ctx_self.in_hook--;
	return pend;
}

/* The bytes before the blank line, the line, the rest of the head and what
 * follows it up to the next head end, in one sendmsg; the program is told
 * how many of its own bytes went.  *AGAIN: only our line went out (the
 * program must not see a zero-byte write: net_out goes on). */
static ssize_t out_with_line(int fd, struct net_conn *c, const struct net_call *k,
			     const struct prog *p, struct plan *pl, unsigned gen, int *again)
{
	struct iovec v[NET_IOV_MAX + 1];
	int nv = 0;
	size_t a = add_range(v, &nv, NET_IOV_MAX, p, 0, pl->inj_at);
	int added = a == pl->inj_at;
	size_t b = a;
	if (added) {
		v[nv].iov_base = pl->inj;
		v[nv].iov_len = pl->inj_len;
		nv++;
		b = add_range(v, &nv, NET_IOV_MAX + 1, p, pl->inj_at, pl->stop_at);
	}
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_iov = v;
	m.msg_iovlen = (size_t)nv;
	if (k->how == NET_SENDTO) {
		m.msg_name = (void *)k->addr;
		m.msg_namelen = k->alen;
	} else if (k->how == NET_SENDMSG) {
		m.msg_name = k->msg->msg_name;
		m.msg_namelen = k->msg->msg_namelen;
	}
	ssize_t w = REAL(sendmsg)(fd, &m, k->flags);
	if (w < 0)
		return -1;
	int err = errno;
	size_t uw = (size_t)w, taken, line_sent = 0;
	if (!added || uw <= pl->inj_at) {
		taken = uw < b ? uw : b;
		added = 0;
	} else if (uw < pl->inj_at + pl->inj_len) {
		taken = pl->inj_at;
		line_sent = uw - pl->inj_at;
	} else {
		taken = uw - pl->inj_len;
		line_sent = pl->inj_len;
	}
	ctx_self.in_hook++;
	commit(c, gen, p, taken, pl, added, line_sent);
	ctx_self.in_hook--;
	errno = err;
	*again = taken == 0 && p->total > 0;
	return (ssize_t)taken;
}

ssize_t net_out(int fd, struct net_conn *c, const struct net_call *k)
{
	struct prog p;
	struct plan pl;
	ssize_t r;
	if (out_unfollowed(fd, c, k, &r))
		return r;
	if (!prog_of(k, &p))
		return orig(fd, k);
	for (;;) {
		unsigned gen;
		if (out_plan(c, k, &p, &pl, &gen)) {
			/* Our line first; then plan again from where it left. */
			if (flush_pending(fd, c, gen, k->flags) < 0)
				return -1;
			continue;
		}
		if (pl.inj_at == NONE) {
			ssize_t w = orig(fd, k);
			int err = errno;
			ctx_self.in_hook++;
			commit(c, gen, &p, w > 0 ? (size_t)w : 0, &pl, 0, 0);
			ctx_self.in_hook--;
			errno = err;
			return w;
		}
		int again;
		r = out_with_line(fd, c, k, &p, &pl, gen, &again);
		if (r < 0 || !again)
			return r;
	}
}

int net_flush(int fd)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return 0;
	KEEP_ERRNO;
	unsigned gen = atomic_load(&c->gen);
	if (flush_pending(fd, c, gen, 0) < 0)
		return -1;
	RESTORE_ERRNO;
	return 0;
}

/* sendfile: body bytes the scanner cannot see; counted, they keep it in step
 * with a response whose length is known.  Anything else stops following. */
ssize_t net_sendfile(int out, int in, void *off, size_t n, int wide)
{
	struct net_conn *c = net_slot(out);
	ssize_t w;
	if (c) {
		ctx_self.in_hook++;
		net_lock(c);
		unsigned gen = atomic_load(&c->gen);
		int pend = c->h && c->h->pend_len;
		net_unlock(c);
		ctx_self.in_hook--;
		if (pend && flush_pending(out, c, gen, 0) < 0)
			return -1;
	}
	w = wide ? REAL(sendfile64)(out, in, off, n) : REAL(sendfile)(out, in, off, n);
	if (!c)
		return w;
	KEEP_ERRNO;
	ctx_self.in_hook++;
	net_lock(c);
	if (w > 0 && c->h && !c->tx_pass) {
		size_t left = (size_t)w;
		while (left && !c->tx_pass) {
			int ev;
			left -= http_tx_skip(&c->h->tx, left, &ev);
			if (ev == HTTP_DONE)
				at_done(c, &c->h->tx, NULL, 1, NULL);
			else if (ev == HTTP_PASS)
				c->tx_pass = 1;
		}
	}
	if (atomic_load(&c->kind) == NET_IN)
		net_enter(c);
	net_unlock(c);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
	return w;
}

size_t net_tx_tls(struct net_conn *c, const void *buf, size_t n, size_t taken, size_t inj_at,
		  char *line, size_t *len)
{
	struct net_call k = { .how = NET_WRITE, .buf = buf, .n = n };
	struct prog p;     /* all N bytes: the blank line after a line added at TAKEN is seen */
	struct plan pl;
	int may_add = 0;
	pl.inj_at = inj_at, pl.inj_len = *len, pl.stop_at = n, pl.whole = 0, pl.nev = 0;
	if (!prog_of(&k, &p))
		return NONE;
	if (taken != NONE)      /* the bytes went: commit */
		return commit(c, atomic_load(&c->gen), &p, taken, &pl, inj_at != NONE, *len), NONE;
	net_lock(c);
	struct net_http *h = following(c, &k, &may_add);
	if (h && may_add && !h->pend_len) {     /* never pending: net_tls.c writes a line whole */
		http_tx_copy(&pl.after, &h->tx);
		walk(c, &pl.after, &p, p.total, &pl, 0, 0);
	}
	net_unlock(c);
	if (pl.inj_at != NONE)
		memcpy(line, pl.inj, *len = pl.inj_len);
	return pl.inj_at;
}
