/*
 * baggage.c: W3C Baggage decoding and encoding.
 *
 * Decoding is strict about what it keeps (a value must decode to something a
 * context can hold) and lenient about what it skips: a bad member is counted
 * and passed over, the rest of the list still counts.
 */
#include "baggage.h"

#include "map.h"

#include <string.h>

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* baggage-octet: printable ASCII except space, '"', ',', ';' and '\'. */
static int is_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [p, end) into out (cap bytes incl. NUL); -1 if invalid. */
static long decode_value(const char *p, const char *end, char *out, size_t cap)
{
	size_t n = 0;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			if (end - p < 3)
				return -1;
			int hi = hexval((unsigned char)p[1]), lo = hexval((unsigned char)p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			p += 3;
		} else if (is_octet(c)) {
			p++;
		} else {
			return -1;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (long)n;
}

/* Handle one member [p, end); returns -1 malformed, 0 ok or empty, 1 stop. */
static int member(const char *p, const char *end, bag_member_fn fn, void *arg)
{
	char val[CMAP_MAX_VALUE + 1];

	while (p < end && is_ows(*p))
		p++;
	if (p >= end)
		return 0;
	const char *semi = memchr(p, ';', (size_t)(end - p));
	if (semi)
		end = semi;    /* properties are ignored */
	while (end > p && is_ows(end[-1]))
		end--;
	if (p == end)
		return semi ? -1 : 0;
	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (!eq)
		return -1;
	const char *kend = eq;
	while (kend > p && is_ows(kend[-1]))
		kend--;
	const char *v = eq + 1;
	while (v < end && is_ows(*v))
		v++;
	if (!cmap_key_valid(p, (size_t)(kend - p)))
		return -1;
	long vlen = decode_value(v, end, val, sizeof val);
	if (vlen < 0)
		return -1;
	return fn(p, (size_t)(kend - p), val, (size_t)vlen, arg) ? 1 : 0;
}

int bag_decode(const char *s, bag_member_fn fn, void *arg)
{
	int bad = 0;
	if (!s)
		return 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *end = comma ? comma : s + strlen(s);
		int r = member(s, end, fn, arg);
		if (r < 0)
			bad++;
		if (r > 0 || !comma)
			break;
		s = comma + 1;
	}
	return bad;
}

/* Kept as is when encoding: unreserved URI characters, plus ':' '/' '@' so
 * that paths and addresses stay readable.  Everything else is %XX. */
static int keep_raw(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == ':' || c == '/' || c == '@';
}

size_t bag_encode_member(char *out, size_t cap, const char *key, size_t klen,
			 const char *val, size_t vlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = klen + 1;
	for (size_t i = 0; i < vlen; i++)
		need += keep_raw((unsigned char)val[i]) ? 1 : 3;
	if (need > cap)
		return need;
	memcpy(out, key, klen);
	char *p = out + klen;
	*p++ = '=';
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)val[i];
		if (keep_raw(c)) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	return need;
}

void bag_writer_init(struct bag_writer *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->members = 0;
	w->dropped = 0;
	if (cap)
		buf[0] = '\0';
}

int bag_writer_add(struct bag_writer *w, const char *key, size_t klen,
		   const char *val, size_t vlen)
{
	size_t sep = w->len ? 1 : 0;
	size_t limit = w->cap ? w->cap - 1 : 0;
	if (limit > BAG_MAX_BYTES)
		limit = BAG_MAX_BYTES;
	if (w->members >= BAG_MAX_MEMBERS || w->len + sep >= limit) {
		w->dropped++;
		return -1;
	}
	size_t room = limit - w->len - sep;
	size_t need = bag_encode_member(w->buf + w->len + sep, room, key, klen, val, vlen);
	if (need > room) {
		w->dropped++;
		w->buf[w->len] = '\0';
		return -1;
	}
	if (sep)
		w->buf[w->len] = ',';
	w->len += sep + need;
	w->buf[w->len] = '\0';
	w->members++;
	return 0;
}
