/*
 * http_parse.c: incremental HTTP/1.x parsers (see http_parse.h).
 *
 * Both machines move byte by byte through the start line and header lines,
 * and jump over runs they do not need (a header value nobody wants, body
 * bytes) with memchr or a count, so a typical head costs a few hundred
 * cheap steps and a body almost nothing.  Every state change is driven by
 * the byte at hand; no state ever looks back, so a split at any byte gives
 * the same result as one whole buffer.
 */
#include "http_parse.h"

#include <stddef.h>
#include <string.h>

enum { BODY_NONE, BODY_LEN, BODY_CHUNKED };
enum { W_NONE, W_ID, W_TP, W_CL, W_TE };

/* Request (rx) states. */
enum {
	R_START, R_METHOD, R_TARGET, R_VER, R_VER_END, R_SL_CR,
	R_LINE, R_NAME, R_OWS, R_VALUE, R_END_CR, R_BODY, R_PASS,
};

/* Outgoing message (tx) states. */
enum {
	T_START, T_METHOD, T_TARGET, T_VER, T_VER_END, T_STATUS, T_REASON, T_SL_CR,
	T_LINE, T_NAME, T_OWS, T_VALUE, T_BLANK, T_BLANK_CR, T_BODY, T_PASS,
};

/* Chunked body sub-states. */
enum {
	C_SIZE, C_EXT, C_SIZE_CR, C_DATA, C_DATA_END, C_DATA_CR,
	C_TRAILER, C_TRAILER_LINE, C_TRAILER_CR,
};

#define CHUNK_LINE_MAX 4096

/* RFC 9110 tchar. */
static const uint8_t tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int http_token_valid(const char *name, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!tchar[(uint8_t)name[i]])
			return 0;
	return 1;
}

int http_id_valid(const char *v, size_t n)
{
	if (n == 0 || n > HTTP_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
		      c == '+' || c == '/' || c == '=' || c == '-'))
			return 0;
	}
	return 1;
}

/* N lowercase hex digits, not all zero. */
static int lowhex(const char *v, size_t n)
{
	int nonzero = 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
		nonzero |= c != '0';
	}
	return nonzero;
}

int http_traceparent_parse(const char *v, size_t n, char trace_id[33],
			   char span_id[17], char flags[3])
{
	/* version "-" trace-id(32) "-" parent-id(16) "-" flags(2): 55 bytes.
	 * Version 00 is exactly that; a later version may append "-" fields. */
	if (n < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
		return 0;
	if (hexval(v[0]) < 0 || hexval(v[1]) < 0 || lower(v[0]) != v[0] ||
	    lower(v[1]) != v[1] || (v[0] == 'f' && v[1] == 'f'))
		return 0;
	if (v[0] == '0' && v[1] == '0' ? n != 55 : (n > 55 && v[55] != '-'))
		return 0;
	if (!lowhex(v + 3, 32) || !lowhex(v + 36, 16))
		return 0;
	if (hexval(v[53]) < 0 || hexval(v[54]) < 0 || lower(v[53]) != v[53] ||
	    lower(v[54]) != v[54])
		return 0;
	memcpy(trace_id, v + 3, 32);
	trace_id[32] = '\0';
	memcpy(span_id, v + 36, 16);
	span_id[16] = '\0';
	flags[0] = v[53];
	flags[1] = v[54];
	flags[2] = '\0';
	return 1;
}

/* ---- headers, shared by both machines --------------------------------- */

static void hdr_begin(struct http_hdr *h, char c)
{
	h->name[0] = (char)lower(c);
	h->nlen = 1;
	h->vlen = 0;
	h->over = 0;
	h->which = W_NONE;
}

static int name_is(const struct http_hdr *h, const char *lit, size_t n)
{
	return h->nlen == n && memcmp(h->name, lit, n) == 0;
}

/* Which wanted header the name just read is.  TP_WANTED: traceparent too. */
static void hdr_classify(struct http_hdr *h, const char *idname, size_t idlen)
{
	if (h->nlen > HTTP_NAME_MAX)
		h->which = W_NONE;
	else if (name_is(h, idname, idlen))
		h->which = W_ID;
	else if (name_is(h, "traceparent", 11))
		h->which = W_TP;
	else if (name_is(h, "content-length", 14))
		h->which = W_CL;
	else if (name_is(h, "transfer-encoding", 17))
		h->which = W_TE;
	else
		h->which = W_NONE;
}

static void hdr_val_add(struct http_hdr *h, const char *p, size_t n)
{
	size_t room = HTTP_VAL_MAX - h->vlen;
	if (n > room) {
		n = room;
		h->over = 1;
	}
	memcpy(h->val + h->vlen, p, n);
	h->vlen = (uint16_t)(h->vlen + n);
}

/* The value without surrounding spaces and tabs and the CR before LF. */
static size_t hdr_val_trim(struct http_hdr *h)
{
	size_t n = h->vlen;
	if (n && h->val[n - 1] == '\r')
		n--;
	while (n && (h->val[n - 1] == ' ' || h->val[n - 1] == '\t'))
		n--;
	h->val[n] = '\0';
	return n;
}

/* Content-Length: 1-18 digits; a second header must agree. */
static void framing_cl(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *bad, uint64_t *cl)
{
	uint64_t v = 0;
	if (h->over || n == 0 || n > 18) {
		*bad = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (h->val[i] < '0' || h->val[i] > '9') {
			*bad = 1;
			return;
		}
		v = v * 10 + (uint64_t)(h->val[i] - '0');
	}
	if (*seen && *cl != v)
		*bad = 1;
	*seen = 1;
	*cl = v;
}

/* Transfer-Encoding: chunked when it is the last coding of the last header. */
static void framing_te(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *chunked)
{
	size_t i = n;
	*seen = 1;
	*chunked = 0;
	if (h->over)
		return;
	while (i && h->val[i - 1] != ',')
		i--;
	while (i < n && (h->val[i] == ' ' || h->val[i] == '\t'))
		i++;
	if (n - i == 7) {
		char w[7];
		for (size_t k = 0; k < 7; k++)
			w[k] = (char)lower(h->val[i + k]);
		*chunked = memcmp(w, "chunked", 7) == 0;
	}
}

/* ---- bodies ------------------------------------------------------------ */

static void body_start(struct http_body *b, int kind, uint64_t len)
{
	b->kind = (uint8_t)kind;
	b->st = C_SIZE;
	b->linelen = 0;
	b->left = kind == BODY_LEN ? len : 0;
}

/* Skip body bytes.  Returns bytes consumed; *done when the body ended,
 * *bad when the chunked framing is broken. */
static size_t body_skip(struct http_body *b, const char *buf, size_t n, int *done, int *bad)
{
	size_t i = 0;
	*done = *bad = 0;
	if (b->kind == BODY_LEN) {
		size_t k = b->left < n ? (size_t)b->left : n;
		b->left -= k;
		*done = b->left == 0;
		return k;
	}
	while (i < n) {
		char c = buf[i];
		switch (b->st) {
		case C_SIZE: {
			int h = hexval(c);
			if (h >= 0) {
				if (++b->linelen > 15) {
					*bad = 1;
					return i;
				}
				b->left = b->left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (b->linelen == 0) {
				*bad = 1;
				return i;
			}
			if (c == ';' || c == ' ' || c == '\t') {
				b->st = C_EXT;
			} else if (c == '\r') {
				b->st = C_SIZE_CR;
				i++;
			} else if (c == '\n') {
				b->st = C_SIZE_CR;   /* handled below as the LF */
			} else {
				*bad = 1;
				return i;
			}
			break;
		}
		case C_EXT: {
			const char *lf = memchr(buf + i, '\n', n - i);
			size_t k = lf ? (size_t)(lf - (buf + i)) : n - i;
			if (b->linelen + k > CHUNK_LINE_MAX) {
				*bad = 1;
				return i;
			}
			b->linelen = (uint16_t)(b->linelen + k);
			i += k;
			if (lf)
				b->st = C_SIZE_CR;
			break;
		}
		case C_SIZE_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			i++;
			b->linelen = 0;
			b->st = b->left ? C_DATA : C_TRAILER;
			break;
		case C_DATA: {
			size_t k = b->left < n - i ? (size_t)b->left : n - i;
			b->left -= k;
			i += k;
			if (b->left == 0)
				b->st = C_DATA_END;
			break;
		}
		case C_DATA_END:
			if (c == '\r') {
				b->st = C_DATA_CR;
				i++;
			} else if (c == '\n') {
				b->st = C_DATA_CR;
			} else {
				*bad = 1;
				return i;
			}
			break;
		case C_DATA_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			i++;
			b->st = C_SIZE;
			b->linelen = 0;
			break;
		case C_TRAILER:
			if (c == '\r') {
				b->st = C_TRAILER_CR;
				i++;
			} else if (c == '\n') {
				*done = 1;
				return i + 1;
			} else {
				b->st = C_TRAILER_LINE;
				b->linelen = 0;
			}
			break;
		case C_TRAILER_LINE: {
			const char *lf = memchr(buf + i, '\n', n - i);
			size_t k = lf ? (size_t)(lf - (buf + i)) + 1 : n - i;
			if (b->linelen + k > CHUNK_LINE_MAX) {
				*bad = 1;
				return i;
			}
			b->linelen = (uint16_t)(b->linelen + k);
			i += k;
			if (lf)
				b->st = C_TRAILER;
			break;
		}
		case C_TRAILER_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			*done = 1;
			return i + 1;
		}
	}
	return i;
}

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
		n = hdr_val_trim(h);
		/* Only the first occurrence counts; a later one cannot replace it. */
		if (!f->id_seen && !h->over && http_id_valid(h->val, n)) {
			memcpy(f->id, h->val, n + 1);
			f->id_len = (uint8_t)n;
			f->id_ok = 1;
		}
		f->id_seen = 1;
		break;
	case W_TP:
		n = hdr_val_trim(h);
		if (!f->tp_seen && !h->over)
			f->tp_ok = (uint8_t)http_traceparent_parse(h->val, n, f->trace_id,
								  f->span_id, f->flags);
		else
			f->tp_ok = 0;   /* two traceparents: trust neither */
		f->tp_seen = 1;
		break;
	case W_CL:
		framing_cl(h, hdr_val_trim(h), &p->cl_seen, &p->cl_bad, &p->cl);
		break;
	case W_TE:
		framing_te(h, hdr_val_trim(h), &p->te_seen, &p->te_chunked);
		break;
	}
}

/* A folded continuation of the header just read: 0 when it makes the
 * framing uncertain. */
static int rx_fold(struct http_rx *p)
{
	switch (p->h.which) {
	case W_ID:
		p->f.id_ok = 0;
		break;
	case W_TP:
		p->f.tp_ok = 0;
		break;
	case W_CL:
	case W_TE:
		return 0;
	}
	p->h.which = W_NONE;
	return p->h.nlen != 0;    /* no header before it: not a fold */
}

/* The blank line ended the head: choose how to skip the body.  Returns 0
 * when the framing cannot be followed. */
static int rx_head_done(struct http_rx *p)
{
	if (p->connect)
		return 0;      /* a tunnel follows, not HTTP */
	if (p->te_seen) {
		if (!p->te_chunked)
			return 0;
		body_start(&p->body, BODY_CHUNKED, 0);
		p->st = R_BODY;
	} else if (p->cl_bad) {
		return 0;
	} else if (p->cl_seen && p->cl > 0) {
		body_start(&p->body, BODY_LEN, p->cl);
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

/* Runs of bytes are taken in one step (a header name, a value, a target):
 * each step takes at most the bytes left before the head reaches
 * HTTP_HEAD_MAX, so the limit falls on the same byte however the stream is
 * split. */
static size_t tchar_run(const char *b, size_t n)
{
	size_t k = 0;
	while (k < n && tchar[(uint8_t)b[k]])
		k++;
	return k;
}

static size_t ows_run(const char *b, size_t n)
{
	size_t k = 0;
	while (k < n && (b[k] == ' ' || b[k] == '\t'))
		k++;
	return k;
}

static void hdr_name_addn(struct http_hdr *h, const char *b, size_t k)
{
	for (size_t i = 0; i < k && h->nlen <= HTTP_NAME_MAX; i++) {
		if (h->nlen < HTTP_NAME_MAX)
			h->name[h->nlen] = (char)lower(b[i]);
		h->nlen++;
	}
}

/* A whole "name: value" line at B (which starts with a tchar) within LIM
 * bytes, in one step: its length up to and including the LF, with H set up
 * as the byte-by-byte states would leave it; 0 when the line is not all
 * there or not plain (those take the slow states, with the same result). */
static size_t hdr_line(struct http_hdr *h, const char *b, size_t lim, const char *idname,
		       size_t idlen)
{
	size_t k = tchar_run(b, lim);
	if (k == lim || b[k] != ':')
		return 0;
	const char *lf = memchr(b + k + 1, '\n', lim - k - 1);
	if (!lf)
		return 0;
	h->nlen = h->vlen = 0;
	h->over = 0;
	h->which = W_NONE;
	/* Only a name as long as a wanted one is worth copying. */
	if (k == idlen || k == 11 || k == 14 || k == 17) {
		hdr_name_addn(h, b, k);
		hdr_classify(h, idname, idlen);
	} else {
		h->nlen = (uint16_t)(k > HTTP_NAME_MAX ? HTTP_NAME_MAX + 1 : k);
	}
	if (h->which) {
		const char *v = b + k + 1;
		size_t vn = (size_t)(lf - v);
		size_t sp = ows_run(v, vn);
		hdr_val_add(h, v + sp, vn - sp);
	}
	return (size_t)(lf - b) + 1;
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
			i += body_skip(&p->body, buf + i, n - i, &done, &bad);
			if (bad)
				return rx_pass(p, n, ev);
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
			if (!tchar[c])
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
			k = tchar_run(b, lim);
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
				p->sub = 8;
			} else if (c == '\r') {
				p->st = R_SL_CR;
			} else if (c == '\n') {
				p->st = R_LINE;
			} else {
				return rx_pass(p, n, ev);
			}
			break;
		case R_SL_CR:
			if (c != '\n')
				return rx_pass(p, n, ev);
			p->st = R_LINE;
			break;
		case R_LINE:
			if (c == '\r') {
				p->st = R_END_CR;
			} else if (c == '\n') {
				end = 1;
			} else if (c == ' ' || c == '\t') {
				/* obs-fold: the previous value goes on over this line.
				 * A wanted value folded so is not trusted. */
				if (!rx_fold(p))
					return rx_pass(p, n, ev);
				p->st = R_VALUE;
			} else if (tchar[c]) {
				k = hdr_line(&p->h, b, lim, p->idname, p->idname_len);
				if (k) {
					rx_header_done(p);
					break;
				}
				k = 1;
				hdr_begin(&p->h, (char)c);
				p->st = R_NAME;
			} else {
				return rx_pass(p, n, ev);
			}
			break;
		case R_NAME:
			k = tchar_run(b, lim);
			hdr_name_addn(&p->h, b, k);
			if (k == lim)
				break;
			if (b[k] != ':')
				return rx_pass(p, n, ev);
			hdr_classify(&p->h, p->idname, p->idname_len);
			p->st = R_OWS;
			k++;
			break;
		case R_OWS:
			k = ows_run(b, lim);
			if (k < lim)
				p->st = R_VALUE;
			break;
		case R_VALUE: {
			const char *lf = memchr(b, '\n', lim);
			k = lf ? (size_t)(lf - b) : lim;
			if (p->h.which)
				hdr_val_add(&p->h, b, k);
			if (lf) {
				rx_header_done(p);
				p->st = R_LINE;
				k++;
			}
			break;
		}
		case R_END_CR:
			if (c != '\n')
				return rx_pass(p, n, ev);
			end = 1;
			break;
		}
		p->head_len += (uint32_t)k;
		i += k;
		if (end) {
			if (!rx_head_done(p)) {
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

/* ---- messages written by a program ------------------------------------ */

void http_tx_init(struct http_tx *s, int requests, const char *idname, size_t idname_len)
{
	memset(s, 0, sizeof *s);
	s->idname = idname;
	s->idname_len = (uint8_t)idname_len;
	s->requests = (uint8_t)requests;
	s->st = T_START;
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
		framing_cl(h, hdr_val_trim(h), &s->cl_seen, &s->cl_bad, &s->cl);
		break;
	case W_TE:
		framing_te(h, hdr_val_trim(h), &s->te_seen, &s->te_chunked);
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
	if (s->te_seen) {
		if (!s->te_chunked)
			return -1;
		body_start(&s->body, BODY_CHUNKED, 0);
		return 0;
	}
	if (s->cl_bad)
		return -1;
	if (s->cl_seen && s->cl > 0) {
		body_start(&s->body, BODY_LEN, s->cl);
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
			i += body_skip(&s->body, buf + i, n - i, &done, &bad);
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
			if (s->requests ? !tchar[c0] : c0 != 'H')
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
			k = tchar_run(b, lim);
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
			if (!tchar[c])
				return tx_pass(s, n, ev);   /* obs-fold or garbage */
			k = hdr_line(&s->h, b, lim, s->idname, s->idname_len);
			if (k) {
				tx_header_done(s);
				break;
			}
			k = 1;
			hdr_begin(&s->h, (char)c);
			s->st = T_NAME;
			break;
		case T_NAME:
			k = tchar_run(b, lim);
			hdr_name_addn(&s->h, b, k);
			if (k == lim)
				break;
			if (b[k] != ':')
				return tx_pass(s, n, ev);
			hdr_classify(&s->h, s->idname, s->idname_len);
			s->st = T_OWS;
			k++;
			break;
		case T_OWS:
			k = ows_run(b, lim);
			if (k < lim)
				s->st = T_VALUE;
			break;
		case T_VALUE: {
			const char *lf = memchr(b, '\n', lim);
			k = lf ? (size_t)(lf - b) : lim;
			if (s->h.which)
				hdr_val_add(&s->h, b, k);
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
