/*
 * http_rx.c: the requests a server reads, parsed incrementally (see
 * http_parse.h): the request line, the headers the shim wants, then the body
 * skipped by its framing, so keep-alive and pipelined requests are found.
 *
 * The parser follows a stream only while no other parser could cut it
 * differently (RFC 9112 6.3, request smuggling): a server that reads a body
 * with another length than ours sees other requests than we do, and an id
 * added to the "next" response would land in the middle of a body.  So once
 * the request line was an HTTP/1.x one, anything a lenient and a strict
 * parser could disagree on is HTTP_AMBIG and the stream is abandoned:
 *   - a line not ended by CRLF (a bare LF), a CR anywhere else in the head;
 *   - obs-fold (a line starting with SP or HTAB), a line that is not
 *     "name:", whitespace before the colon;
 *   - Transfer-Encoding together with Content-Length; more than one
 *     Transfer-Encoding header, or one whose value is not exactly "chunked"
 *     (no other coding, no list); Transfer-Encoding in an HTTP/1.0 request;
 *   - more than one Content-Length header (even with the same value), a
 *     value that is not 1-18 digits (no sign, no spaces inside, no list);
 *   - chunked framing that is not exactly RFC 9112's (http_parse.c).
 * Bytes that are not a request line at all (another protocol, HTTP/2, a
 * tunnel's data) are HTTP_PASS as before: nothing of them was queued.
 */
#include "http_int.h"

#include <string.h>

/* Request (rx) states. */
enum {
	R_START, R_METHOD, R_TARGET, R_VER, R_VER_END, R_SL_CR,
	R_LINE, R_NAME, R_OWS, R_VALUE, R_END_CR, R_BODY, R_PASS,
};

/* ---- requests read by a server ---------------------------------------- */

void http_rx_init(struct http_rx *p, const char *idname, size_t idname_len)
{
	memset(p, 0, sizeof *p);
	p->idname = idname;
	p->idname_len = (uint8_t)idname_len;
	p->st = R_START;
}

static void rx_new_request(struct http_rx *p)
{
	struct http_req_fields *f = &p->f;
	f->method_len = 0;
	f->path_len = 0;
	f->id_len = 0;
	f->id_ok = f->id_seen = f->tp_ok = f->tp_seen = f->path_cut = 0;
	f->method[0] = f->path[0] = f->id[0] = '\0';
	p->te_seen = p->te_chunked = p->cl_seen = p->cl_bad = p->connect = 0;
	p->v10 = p->cr = 0;
	p->cl = 0;
	p->head_len = 0;
	p->h.which = W_NONE;
	p->h.nlen = 0;
}

static void rx_path_add(struct http_rx *p, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	struct http_req_fields *f = &p->f;
	/* Raw bytes above 0x7e are not valid in a request target; they are
	 * kept percent-encoded so the value stays printable ASCII. */
	size_t need = c < 0x7f ? 1 : 3;
	if (f->path_cut || f->path_len + need > HTTP_PATH_MAX) {
		f->path_cut = 1;
		return;
	}
	if (need == 1) {
		f->path[f->path_len++] = (char)c;
	} else {
		f->path[f->path_len++] = '%';
		f->path[f->path_len++] = hex[c >> 4];
		f->path[f->path_len++] = hex[c & 15];
	}
	f->path[f->path_len] = '\0';
}

/* A complete header line: keep what the shim wants of it. */
static void rx_header_done(struct http_rx *p)
{
	struct http_hdr *h = &p->h;
	struct http_req_fields *f = &p->f;
	size_t n;
	switch (h->which) {
	case W_ID:
		n = http_hdr_val_trim(h);
		/* Only the first occurrence counts; a later one cannot replace it. */
		if (!f->id_seen && !h->over && http_id_valid(h->val, n)) {
			memcpy(f->id, h->val, n + 1);
			f->id_len = (uint8_t)n;
			f->id_ok = 1;
		}
		f->id_seen = 1;
		break;
	case W_TP:
		n = http_hdr_val_trim(h);
		if (!f->tp_seen && !h->over)
			f->tp_ok = (uint8_t)http_traceparent_parse(h->val, n, f->trace_id,
								  f->span_id, f->flags);
		else
			f->tp_ok = 0;   /* two traceparents: trust neither */
		f->tp_seen = 1;
		break;
	case W_CL:
		http_framing_cl(h, http_hdr_val_trim(h), &p->cl_seen, &p->cl_bad, &p->cl);
		break;
	case W_TE:
		/* Exactly one header, exactly "chunked" (any case). */
		n = http_hdr_val_trim(h);
		p->te_chunked = !p->te_seen && !h->over && n == 7;
		for (size_t i = 0; i < n && p->te_chunked; i++)
			p->te_chunked = http_lower(h->val[i]) == "chunked"[i];
		if (p->te_seen < 2)
			p->te_seen++;
		break;
	}
}

/* The blank line ended the head: choose how to skip the body.  Returns 1
 * to go on, 0 when a tunnel follows, -1 when the framing is ambiguous. */
static int rx_head_done(struct http_rx *p)
{
	if (p->te_seen && (p->te_seen > 1 || !p->te_chunked || p->cl_seen || p->v10))
		return -1;
	if (p->cl_bad)
		return -1;
	if (p->connect)
		return 0;      /* a tunnel follows, not HTTP */
	if (p->te_seen) {
		http_body_start(&p->body, BODY_CHUNKED, 0);
		p->st = R_BODY;
	} else if (p->cl_seen && p->cl > 0) {
		http_body_start(&p->body, BODY_LEN, p->cl);
		p->st = R_BODY;
	} else {
		p->st = R_START;
	}
	return 1;
}

static size_t rx_pass(struct http_rx *p, size_t n, int *ev)
{
	p->st = R_PASS;
	*ev = HTTP_PASS;
	return n;
}

static size_t rx_ambig(struct http_rx *p, size_t n, int *ev)
{
	p->st = R_PASS;
	*ev = HTTP_AMBIG;
	return n;
}

/* A header line of K bytes at B, LF included: 1 when its only CR is the one
 * right before the LF. */
static int rx_crlf_only(const char *b, size_t k)
{
	return k >= 2 && memchr(b, '\r', k) == b + k - 2;
}

/* A request target: printable ASCII kept, bytes above 0x7e kept
 * percent-encoded; returns bytes taken, stopping at the space after it.
 * *BAD on a byte no target may hold. */
static size_t rx_target(struct http_rx *p, const char *b, size_t n, int *bad)
{
	struct http_req_fields *f = &p->f;
	size_t k = 0;
	*bad = 0;
	while (k < n) {
		unsigned char c = (unsigned char)b[k];
		if (c > 0x20 && c < 0x7f) {
			size_t r = k;
			while (r < n && (unsigned char)b[r] > 0x20 && (unsigned char)b[r] < 0x7f)
				r++;
			size_t take = f->path_cut ? 0 : r - k;
			if (f->path_len + take > HTTP_PATH_MAX) {
				take = HTTP_PATH_MAX - f->path_len;
				f->path_cut = 1;
			}
			memcpy(f->path + f->path_len, b + k, take);
			f->path_len = (uint16_t)(f->path_len + take);
			f->path[f->path_len] = '\0';
			k = r;
		} else if (c >= 0x80) {
			rx_path_add(p, c);
			k++;
		} else {
			*bad = c != ' ';
			return k;
		}
	}
	return k;
}

size_t http_rx_feed(struct http_rx *p, const char *buf, size_t n, int *ev)
{
	size_t i = 0;
	*ev = HTTP_MORE;
	if (p->st == R_PASS)
		return rx_pass(p, n, ev);
	while (i < n) {
		if (p->st == R_BODY) {
			int done, bad;
			i += http_body_skip(&p->body, buf + i, n - i, &done, &bad);
			if (bad)
				return rx_ambig(p, n, ev);
			if (done)
				p->st = R_START;
			continue;
		}
		if (p->st == R_START) {
			unsigned char c = (unsigned char)buf[i];
			/* Empty lines before a request line are allowed (RFC 9112). */
			if (c == '\r' || c == '\n') {
				i++;
				continue;
			}
			if (!http_tchar[c])
				return rx_pass(p, n, ev);
			rx_new_request(p);
			p->st = R_METHOD;
		}
		size_t room = HTTP_HEAD_MAX - p->head_len;
		if (room == 0) {
			p->st = R_PASS;
			*ev = HTTP_TOO_BIG;
			return n;
		}
		const char *b = buf + i;
		size_t lim = n - i < room ? n - i : room, k = 1;
		unsigned char c = (unsigned char)b[0];
		int end = 0, bad = 0;
		switch (p->st) {
		case R_METHOD:
			k = http_tchar_run(b, lim);
			if (p->f.method_len + k > HTTP_METHOD_MAX)
				return rx_pass(p, n, ev);
			memcpy(p->f.method + p->f.method_len, b, k);
			p->f.method_len = (uint8_t)(p->f.method_len + k);
			if (k == lim)
				break;
			if (b[k] != ' ')
				return rx_pass(p, n, ev);
			p->f.method[p->f.method_len] = '\0';
			p->connect = p->f.method_len == 7 && memcmp(p->f.method, "CONNECT", 7) == 0;
			p->st = R_TARGET;
			k++;
			break;
		case R_TARGET:
			k = rx_target(p, b, lim, &bad);
			if (bad)
				return rx_pass(p, n, ev);
			if (k == lim)
				break;
			if (p->f.path_len == 0)
				return rx_pass(p, n, ev);
			p->st = R_VER;
			p->sub = 0;
			k++;
			break;
		case R_VER:
			if (c != (unsigned char)"HTTP/1."[p->sub])
				return rx_pass(p, n, ev);
			if (++p->sub == 7)
				p->st = R_VER_END;
			break;
		case R_VER_END:
			if (p->sub == 7) {
				if (c != '0' && c != '1')
					return rx_pass(p, n, ev);
				p->v10 = c == '0';
				p->sub = 8;
			} else if (c == '\r') {
				p->st = R_SL_CR;
			} else if (c == '\n') {
				return rx_ambig(p, n, ev);    /* bare LF */
			} else {
				return rx_pass(p, n, ev);
			}
			break;
		case R_SL_CR:
			if (c != '\n')
				return rx_ambig(p, n, ev);
			p->st = R_LINE;
			break;
		case R_LINE:
			if (c == '\r') {
				p->st = R_END_CR;
			} else if (http_tchar[c]) {
				k = http_hdr_line(&p->h, b, lim, p->idname, p->idname_len);
				if (k) {
					if (!rx_crlf_only(b, k))
						return rx_ambig(p, n, ev);
					rx_header_done(p);
					break;
				}
				k = 1;
				http_hdr_begin(&p->h, (char)c);
				p->st = R_NAME;
			} else {
				/* A bare LF, obs-fold (SP, HTAB), or no name. */
				return rx_ambig(p, n, ev);
			}
			break;
		case R_NAME:
			k = http_tchar_run(b, lim);
			http_hdr_name_addn(&p->h, b, k);
			if (k == lim)
				break;
			if (b[k] != ':')
				return rx_ambig(p, n, ev);    /* e.g. "Transfer-Encoding :" */
			http_hdr_classify(&p->h, p->idname, p->idname_len);
			p->cr = 0;
			p->st = R_OWS;
			k++;
			break;
		case R_OWS:
			k = http_ows_run(b, lim);
			if (k < lim)
				p->st = R_VALUE;
			break;
		case R_VALUE: {
			const char *lf = memchr(b, '\n', lim);
			k = lf ? (size_t)(lf - b) : lim;
			/* A CR only right before the LF (which may come in the
			 * next piece). */
			const char *cr = memchr(b, '\r', k);
			if ((p->cr && (k || !lf)) || (cr && cr != b + k - 1) ||
			    (lf && !(k ? cr != NULL : p->cr)))
				return rx_ambig(p, n, ev);
			p->cr = !lf && cr;
			if (p->h.which)
				http_hdr_val_add(&p->h, b, k);
			if (lf) {
				rx_header_done(p);
				p->st = R_LINE;
				k++;
			}
			break;
		}
		case R_END_CR:
			if (c != '\n')
				return rx_ambig(p, n, ev);
			end = 1;
			break;
		}
		p->head_len += (uint32_t)k;
		i += k;
		if (end) {
			int go = rx_head_done(p);
			if (go < 0)
				return rx_ambig(p, n, ev);
			if (!go) {
				/* The head is whole and its fields usable; what follows
				 * it cannot be followed. */
				p->st = R_PASS;
			}
			*ev = HTTP_REQ;
			return i;
		}
	}
	return i;
}

