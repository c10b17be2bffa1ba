/*
 * http_tx.c: the messages a program writes (a server's responses, a
 * client's requests), scanned incrementally (see http_parse.h): it stops in
 * front of the blank line that ends each head and follows the body framing
 * to the next head.
 */
#include "http_int.h"

#include <stddef.h>
#include <string.h>

/* Outgoing message (tx) states. */
enum {
	T_START, T_METHOD, T_TARGET, T_VER, T_VER_END, T_STATUS, T_REASON, T_SL_CR,
	T_LINE, T_NAME, T_OWS, T_VALUE, T_BLANK, T_BLANK_CR, T_BODY, T_PASS,
};

/* ---- messages written by a program ------------------------------------ */

void http_tx_init(struct http_tx *s, int requests, const char *idname, size_t idname_len)
{
	memset(s, 0, sizeof *s);
	s->idname = idname;
	s->idname_len = (uint8_t)idname_len;
	s->requests = (uint8_t)requests;
	s->st = T_START;
}

int http_tx_idle(const struct http_tx *s)
{
	return s->st == T_START;
}

static void tx_new_message(struct http_tx *s)
{
	s->crlf = s->has_id = s->has_tp = 0;
	s->te_seen = s->te_chunked = s->cl_seen = s->cl_bad = 0;
	s->no_body = s->tunnel = 0;
	s->status = 0;
	s->cl = 0;
	s->head_len = 0;
	s->sub = 0;
}

static void tx_header_done(struct http_tx *s)
{
	struct http_hdr *h = &s->h;
	switch (h->which) {
	case W_ID:
		s->has_id = 1;
		break;
	case W_TP:
		s->has_tp = 1;
		break;
	case W_CL:
		http_framing_cl(h, http_hdr_val_trim(h), &s->cl_seen, &s->cl_bad, &s->cl);
		break;
	case W_TE:
		http_framing_te(h, http_hdr_val_trim(h), &s->te_seen, &s->te_chunked);
		break;
	}
	h->which = W_NONE;
}

/* After the blank line: 1 for a message that ends here, 0 for one with a
 * body to follow, -1 when the stream cannot be followed further. */
static int tx_head_done(struct http_tx *s)
{
	if (!s->requests) {
		if (s->status == 101 || s->tunnel)
			return -1;
		if (s->status < 200 || s->status == 204 || s->status == 304 || s->no_body)
			return 1;
	}
	/* Both framings, or a second Content-Length (http_framing_cl): a
	 * client may cut this body elsewhere than we would. */
	if (s->te_seen) {
		if (!s->te_chunked || s->cl_seen)
			return -1;
		http_body_start(&s->body, BODY_CHUNKED, 0);
		return 0;
	}
	if (s->cl_bad)
		return -1;
	if (s->cl_seen && s->cl > 0) {
		http_body_start(&s->body, BODY_LEN, s->cl);
		return 0;
	}
	if (s->cl_seen || s->requests)
		return 1;
	return -1;    /* a response that lasts until the connection closes */
}

static size_t tx_pass(struct http_tx *s, size_t n, int *ev)
{
	s->st = T_PASS;
	*ev = HTTP_PASS;
	return n;
}

size_t http_tx_scan(struct http_tx *s, const char *buf, size_t n, int *ev)
{
	size_t i = 0;
	*ev = HTTP_MORE;
	if (s->st == T_PASS)
		return tx_pass(s, n, ev);
	while (i < n) {
		if (s->st == T_BODY) {
			int done, bad;
			i += http_body_skip(&s->body, buf + i, n - i, &done, &bad);
			if (bad)
				return tx_pass(s, n, ev);
			if (done) {
				s->st = T_START;
				*ev = HTTP_DONE;
				return i;
			}
			continue;
		}
		if (s->st == T_START) {
			unsigned char c0 = (unsigned char)buf[i];
			tx_new_message(s);
			if (s->requests ? !http_tchar[c0] : c0 != 'H')
				return tx_pass(s, n, ev);
			s->st = s->requests ? T_METHOD : T_VER;
		}
		size_t room = HTTP_HEAD_MAX - s->head_len;
		if (room == 0)
			return tx_pass(s, n, ev);
		const char *b = buf + i;
		size_t lim = n - i < room ? n - i : room, k = 1;
		unsigned char c = (unsigned char)b[0];
		int end = 0;
		switch (s->st) {
		case T_METHOD:
			k = http_tchar_run(b, lim);
			if (s->sub + k > HTTP_METHOD_MAX)
				return tx_pass(s, n, ev);
			s->sub = (uint8_t)(s->sub + k);
			if (k == lim)
				break;
			if (b[k] != ' ')
				return tx_pass(s, n, ev);
			s->st = T_TARGET;
			s->sub = 0;
			k++;
			break;
		case T_TARGET:
			k = 0;
			while (k < lim && (unsigned char)b[k] > 0x20 && (unsigned char)b[k] != 0x7f)
				k++;
			if (k)
				s->sub = 1;
			if (k == lim)
				break;
			if (b[k] != ' ' || !s->sub)
				return tx_pass(s, n, ev);
			s->st = T_VER;
			s->sub = 0;
			k++;
			break;
		case T_VER:
			if (c != (unsigned char)"HTTP/1."[s->sub])
				return tx_pass(s, n, ev);
			if (++s->sub == 7)
				s->st = T_VER_END;
			break;
		case T_VER_END:
			if (s->sub == 7) {
				if (c != '0' && c != '1')
					return tx_pass(s, n, ev);
				s->sub = 8;
			} else if (!s->requests) {
				if (c != ' ')
					return tx_pass(s, n, ev);
				s->st = T_STATUS;
				s->sub = 0;
			} else if (c == '\r') {
				s->st = T_SL_CR;
			} else if (c == '\n') {
				s->st = T_LINE;
			} else {
				return tx_pass(s, n, ev);
			}
			break;
		case T_STATUS:
			if (s->sub < 3) {
				if (c < '0' || c > '9')
					return tx_pass(s, n, ev);
				s->status = (uint16_t)(s->status * 10 + (c - '0'));
				s->sub++;
				break;
			}
			if (s->status < 100 || s->status > 599)
				return tx_pass(s, n, ev);
			if (c == ' ')
				s->st = T_REASON;
			else if (c == '\r')
				s->st = T_SL_CR;
			else if (c == '\n')
				s->st = T_LINE;
			else
				return tx_pass(s, n, ev);
			break;
		case T_REASON:
			k = 0;
			while (k < lim && ((unsigned char)b[k] >= 0x20 || b[k] == '\t') && b[k] != 0x7f)
				k++;
			if (k == lim)
				break;
			if (b[k] == '\r')
				s->st = T_SL_CR;
			else if (b[k] == '\n')
				s->st = T_LINE;
			else
				return tx_pass(s, n, ev);
			k++;
			break;
		case T_SL_CR:
			if (c != '\n')
				return tx_pass(s, n, ev);
			s->crlf = 1;
			s->st = T_LINE;
			break;
		case T_LINE:
			if (c == '\r' || c == '\n') {
				/* The blank line: stop in front of it. */
				s->st = T_BLANK;
				*ev = HTTP_HEAD_END;
				return i;
			}
			if (!http_tchar[c])
				return tx_pass(s, n, ev);   /* obs-fold or garbage */
			k = http_hdr_line(&s->h, b, lim, s->idname, s->idname_len);
			if (k) {
				tx_header_done(s);
				break;
			}
			k = 1;
			http_hdr_begin(&s->h, (char)c);
			s->st = T_NAME;
			break;
		case T_NAME:
			k = http_tchar_run(b, lim);
			http_hdr_name_addn(&s->h, b, k);
			if (k == lim)
				break;
			if (b[k] != ':')
				return tx_pass(s, n, ev);
			http_hdr_classify(&s->h, s->idname, s->idname_len);
			s->st = T_OWS;
			k++;
			break;
		case T_OWS:
			k = http_ows_run(b, lim);
			if (k < lim)
				s->st = T_VALUE;
			break;
		case T_VALUE: {
			const char *lf = memchr(b, '\n', lim);
			k = lf ? (size_t)(lf - b) : lim;
			if (s->h.which)
				http_hdr_val_add(&s->h, b, k);
			if (lf) {
				tx_header_done(s);
				s->st = T_LINE;
				k++;
			}
			break;
		}
		case T_BLANK:
			if (c == '\r')
				s->st = T_BLANK_CR;
			else
				end = 1;   /* c is '\n' */
			break;
		case T_BLANK_CR:
			if (c != '\n')
				return tx_pass(s, n, ev);
			end = 1;
			break;
		}
		s->head_len += (uint32_t)k;
		i += k;
		if (!end)
			continue;
		switch (tx_head_done(s)) {
		case 1:
			s->st = T_START;
			*ev = HTTP_DONE;
			return i;
		case 0:
			s->st = T_BODY;
			continue;
		default:
			s->st = T_PASS;
			*ev = HTTP_DONE;   /* this message ended its head; the rest is not ours */
			return i;
		}
	}
	return i;
}

size_t http_tx_skip(struct http_tx *s, size_t n, int *ev)
{
	*ev = HTTP_MORE;
	if (n == 0)
		return 0;
	if (s->st != T_BODY || s->body.kind != BODY_LEN)
		return tx_pass(s, n, ev);
	size_t k = s->body.left < n ? (size_t)s->body.left : n;
	s->body.left -= k;
	if (s->body.left == 0) {
		s->st = T_START;
		*ev = HTTP_DONE;
	}
	return k;
}

void http_tx_copy(struct http_tx *d, const struct http_tx *s)
{
	memcpy(d, s, offsetof(struct http_tx, h) + offsetof(struct http_hdr, name));
	if (s->st == T_NAME || s->st == T_OWS || s->st == T_VALUE) {
		memcpy(d->h.name, s->h.name, s->h.nlen < HTTP_NAME_MAX ? s->h.nlen : HTTP_NAME_MAX);
		memcpy(d->h.val, s->h.val, s->h.vlen);
	}
}
