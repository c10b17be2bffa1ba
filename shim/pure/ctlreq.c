/*
 * ctlreq.c: the control request parser (see ctlreq.h).
 */
#include "ctlreq.h"

#include "baggage.h"
#include "map.h"

#include <string.h>

int ctlreq_word(const char **p, const char **w, size_t *wlen)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	*w = s;
	while (*s && *s != ' ')
		s++;
	*wlen = (size_t)(s - *w);
	*p = s;
	return 1;
}

static int is(const char *w, size_t n, const char *lit)
{
	return n == strlen(lit) && !memcmp(w, lit, n);
}

static int count_member(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(int *)arg;
	return 0;
}

static int fail(struct ctl_req *r, const char *why)
{
	r->err = why;
	return -1;
}

int ctlreq_parse(const char *line, size_t len, struct ctl_req *r)
{
	const char *p = line, *w;
	size_t wl;

	memset(r, 0, sizeof *r);
	if (len >= CTL_REQ_MAX)
		return fail(r, "request too large");
	if (strlen(line) != len)
		return fail(r, "request holds a NUL byte");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return fail(r, "request is not printable ASCII");
	if (!ctlreq_word(&p, &w, &wl))
		return fail(r, "empty request");

	if (is(w, wl, "info") || is(w, wl, "get") || is(w, wl, "conns")) {
		r->verb = is(w, wl, "info") ? CTL_INFO : is(w, wl, "get") ? CTL_GET : CTL_CONNS;
		if (ctlreq_word(&p, &w, &wl))
			return fail(r, "unexpected argument");
		return 0;
	}
	if (is(w, wl, "threads")) {
		r->verb = CTL_THREADS;
		if (ctlreq_word(&p, &w, &wl)) {
			if (!is(w, wl, "symbols"))
				return fail(r, "threads takes only 'symbols'");
			r->symbols = 1;
			if (ctlreq_word(&p, &w, &wl))
				return fail(r, "unexpected argument");
		}
		return 0;
	}
	if (is(w, wl, "set")) {
		r->verb = CTL_SET;
		while (*p == ' ')
			p++;
		r->arg = p;
		if (strchr(p, ' '))
			return fail(r, "set takes one Baggage list (K=V,K=V; values percent-encoded)");
		int n = 0, bad = bag_decode(p, count_member, &n);
		if (bad)
			return fail(r, "malformed member (keys are 1-64 of [A-Za-z0-9_.-]; values "
				       "percent-encoded, at most 4096 bytes, no NUL)");
		if (n == 0)
			return fail(r, "nothing to set");
		if (n > CMAP_MAX_ENTRIES)
			return fail(r, "too many members (at most 64)");
		r->count = n;
		return 0;
	}
	if (is(w, wl, "unset")) {
		r->verb = CTL_UNSET;
		r->arg = p;
		int n = 0;
		while (ctlreq_word(&p, &w, &wl)) {
			if (!cmap_key_valid(w, wl))
				return fail(r, "invalid key (keys are 1-64 of [A-Za-z0-9_.-])");
			n++;
		}
		if (n == 0)
			return fail(r, "nothing to unset");
		r->count = n;
		return 0;
	}
	return fail(r, "unknown request (info, threads, conns, get, set, unset)");
}
