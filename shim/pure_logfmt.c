/*
 * pure_logfmt.c: escapers, UTF-8 checks, time stamps, level names and globs
 * for decorated log lines.  Pure: no globals, no allocation, no locks, no
 * stdio, so everything here is safe in a signal handler.
 */
#include "logfmt.h"

#include <string.h>

static const char hexd[] = "0123456789abcdef";

size_t lf_utf8_seq(const unsigned char *s, size_t n, int *trunc)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	*trunc = 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c == 0xE0)
		need = 2, lo = 0xA0;
	else if (c == 0xED)
		need = 2, hi = 0x9F;          /* no UTF-16 surrogates */
	else if (c >= 0xE1 && c <= 0xEF)
		need = 2;
	else if (c == 0xF0)
		need = 3, lo = 0x90;
	else if (c == 0xF4)
		need = 3, hi = 0x8F;          /* nothing above U+10FFFF */
	else if (c >= 0xF1 && c <= 0xF3)
		need = 3;
	else
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if (i >= n) {
			*trunc = 1;
			return 0;
		}
		unsigned d = s[i];
		if (i == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF))
			return 0;
	}
	return need + 1;
}

/* U+0085, U+2028 or U+2029 at S (LEN bytes, a valid sequence): things some
 * log readers treat as line breaks.  Returns the code point or 0. */
static unsigned line_separator(const unsigned char *s, size_t len)
{
	if (len == 2 && s[0] == 0xC2 && s[1] == 0x85)
		return 0x85;
	if (len == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
		return 0x2000u + (s[2] == 0xA8 ? 0x28 : 0x29);
	return 0;
}

static void put_u(struct lbuf *b, unsigned cp)
{
	char u[6] = { '\\', 'u', hexd[(cp >> 12) & 15], hexd[(cp >> 8) & 15],
		      hexd[(cp >> 4) & 15], hexd[cp & 15] };
	lb_put(b, u, 6);
}

/* ---- text ------------------------------------------------------------ */

void lf_text_value(struct lbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len = 1;
		unsigned sep = 0;
		int trunc;
		if (c >= 0x80) {
			len = lf_utf8_seq(s + i, n - i, &trunc);
			if (len)
				sep = line_separator(s + i, len);
			else
				len = 1;   /* invalid bytes cannot break a line: kept */
		}
		if (c >= 0x20 && c != 0x7f && c != '\\' && !sep) {
			i += len;
			continue;
		}
		lb_put(b, str + run, i - run);
		if (sep) {
			put_u(b, sep);
		} else if (c == '\\') {
			lb_put(b, "\\\\", 2);
		} else if (c == '\n') {
			lb_put(b, "\\n", 2);
		} else if (c == '\r') {
			lb_put(b, "\\r", 2);
		} else if (c == '\t') {
			lb_put(b, "\\t", 2);
		} else {
			char x[4] = { '\\', 'x', hexd[c >> 4], hexd[c & 15] };
			lb_put(b, x, 4);
		}
		i += len;
		run = i;
	}
	lb_put(b, str + run, n - run);
}

/* ---- quoted strings (JSON, and logfmt's quoted values) ---------------- */

/* Escape the one unit at S into OUT (at most 6 bytes), or return 0 in *OLEN
 * for a run of bytes to copy as they are.  Returns input bytes consumed.
 * STREAM: an incomplete sequence at the end is copied (more may follow). */
static size_t quote_unit(const unsigned char *s, size_t n, int stream, char *out,
			 size_t *olen, int *trunc_out)
{
	unsigned c = s[0];
	*trunc_out = 0;
	*olen = 0;
	if (c < 0x80) {
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			return 1;
		out[0] = '\\';
		*olen = 2;
		switch (c) {
		case '"': out[1] = '"'; break;
		case '\\': out[1] = '\\'; break;
		case '\n': out[1] = 'n'; break;
		case '\r': out[1] = 'r'; break;
		case '\t': out[1] = 't'; break;
		case '\b': out[1] = 'b'; break;
		case '\f': out[1] = 'f'; break;
		default: {
			struct lbuf t;
			lb_init(&t, out, 6);
			put_u(&t, c);
			*olen = 6;
		}
		}
		return 1;
	}
	int trunc;
	size_t len = lf_utf8_seq(s, n, &trunc);
	if (len) {
		unsigned sep = line_separator(s, len);
		if (sep) {
			struct lbuf t;
			lb_init(&t, out, 6);
			put_u(&t, sep);
			*olen = 6;
		}
		return len;
	}
	if (trunc && stream) {
		*trunc_out = 1;
		return n;            /* copied; the rest comes in the next piece */
	}
	memcpy(out, "\\ufffd", 6);
	*olen = 6;
	return 1;
}

void lf_json_string(struct lbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	char e[6];
	while (i < n) {
		size_t olen;
		int trunc;
		size_t used = quote_unit(s + i, n - i, 0, e, &olen, &trunc);
		if (olen) {
			lb_put(b, str + run, i - run);
			lb_put(b, e, olen);
			run = i + used;
		}
		i += used;
	}
	lb_put(b, str + run, n - run);
}

/* Bytes a bare logfmt value may hold: printable ASCII but space, '=', '"'
 * and '\\' (a table: this runs for every entry of every decorated line). */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char bare_ok[256] = {
	R16(0), R16(0),
	/* ' ' ! " # $ % & ' ( ) * + , - . / */
	0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0-9 : ; < = > ? */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1,
	R16(1),
	/* P-Z [ \\ ] ^ _ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	R16(1),
	/* p-z { | } ~ DEL */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};

void lf_logfmt_value(struct lbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	int bare = 1;
	for (size_t i = 0; i < n; i++)
		bare &= bare_ok[s[i]];
	if (bare) {
		lb_put(b, str, n);
		return;
	}
	lb_putc(b, '"');
	lf_json_string(b, str, n);
	lb_putc(b, '"');
}

size_t lf_escape_msg(int style, const char *str, size_t n, unsigned *pend, struct lbuf *b)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	char e[6];
	(void)style;   /* logfmt's quoted values use JSON's escapes */

	/* the end of a sequence cut by the previous piece */
	while (i < n && *pend && s[i] >= 0x80 && s[i] <= 0xBF) {
		if (b->len + 1 > b->cap)
			return i;
		lb_putc(b, (char)s[i++]);
		(*pend)--;
	}
	/* Still owed at the end of this piece (it held only continuation
	 * bytes, or nothing): the next piece goes on with the sequence. */
	if (i == n)
		return i;
	*pend = 0;
	while (i < n) {
		/* plain ASCII runs go in one copy */
		size_t j = i;
		while (j < n && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i) {
			size_t room = b->cap > b->len ? b->cap - b->len : 0;
			if (j - i > room)
				j = i + room;
			lb_put(b, str + i, j - i);
			if (j == i + room && j < n)
				return j;
			i = j;
			continue;
		}
		size_t olen;
		int trunc;
		size_t used = quote_unit(s + i, n - i, 1, e, &olen, &trunc);
		if (b->len + (olen ? olen : used) > b->cap)
			return i;
		if (olen)
			lb_put(b, e, olen);
		else
			lb_put(b, str + i, used);
		if (trunc) {
			unsigned lead = s[i];
			unsigned total = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
			*pend = total - (unsigned)used;
		}
		i += used;
	}
	return i;
}

/* ---- RFC 5424 ------------------------------------------------------------ */

void lf_sd_value(struct lbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len = 1;
		int trunc, bad = 0;
		if (c >= 0x80) {
			len = lf_utf8_seq(s + i, n - i, &trunc);
			if (!len)
				len = 1, bad = 1;
		}
		if (!bad && c >= 0x20 && c != 0x7f && c != '"' && c != '\\' && c != ']') {
			i += len;
			continue;
		}
		lb_put(b, str + run, i - run);
		if (bad) {
			lb_put(b, "\xEF\xBF\xBD", 3);
		} else if (c < 0x20 || c == 0x7f) {
			char x[4] = { '\\', 'x', hexd[c >> 4], hexd[c & 15] };
			lb_put(b, x, 4);
		} else {
			lb_putc(b, '\\');
			lb_putc(b, (char)c);
		}
		i += len;
		run = i;
	}
	lb_put(b, str + run, n - run);
}

/* ---- time -------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

size_t lf_iso8601(char *out, int64_t ms, int off_min, int utc)
{
	if (utc)
		off_min = 0;
	int64_t local = ms + (int64_t)off_min * 60000;
	int64_t days = floor_div(local, 86400000);
	int64_t in_day = local - days * 86400000;
	int64_t y;
	unsigned mo, d;
	civil_from_days(days, &y, &mo, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	char *p = out;
	p = digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = digits(p, mo, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, (unsigned)(in_day / 3600000), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(in_day / 60000 % 60), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(in_day / 1000 % 60), 2);
	*p++ = '.';
	p = digits(p, (unsigned)(in_day % 1000), 3);
	if (utc) {
		*p++ = 'Z';
	} else {
		unsigned a = (unsigned)(off_min < 0 ? -off_min : off_min);
		*p++ = off_min < 0 ? '-' : '+';
		p = digits(p, a / 60 % 100, 2);
		*p++ = ':';
		p = digits(p, a % 60, 2);
	}
	*p = '\0';
	return (size_t)(p - out);
}

/* ---- levels ------------------------------------------------------------ */

static const char *const level_names[8] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

const char *lf_level_name(int level)
{
	return level_names[level & 7];
}

static int eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		if (x != *b)
			return 0;
	}
	return *a == *b;
}

int lf_level_parse(const char *s)
{
	static const struct { const char *name; int level; } alias[] = {
		{ "panic", 0 }, { "emergency", 0 }, { "critical", 2 }, { "err", 3 },
		{ "warn", 4 }, { "information", 6 },
	};
	if (!s)
		return -1;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (int i = 0; i < 8; i++)
		if (eq_nocase(s, level_names[i]))
			return i;
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (eq_nocase(s, alias[i].name))
			return alias[i].level;
	return -1;
}

/* ---- globs ------------------------------------------------------------- */

/* Match one pattern element at P (not '*') against byte C.  Returns the
 * pattern position after the element; *OK tells whether it matched. */
static const char *glob_one(const char *p, unsigned char c, int *ok)
{
	if (*p == '?') {
		*ok = 1;
		return p + 1;
	}
	if (*p == '[') {
		const char *q = p + 1;
		int neg = 0, hit = 0;
		if (*q == '!' || *q == '^')
			neg = 1, q++;
		const char *first = q;
		while (*q && (*q != ']' || q == first)) {
			unsigned char lo = (unsigned char)*q, hi = lo;
			if (lo == '\\' && q[1])
				lo = hi = (unsigned char)*++q;
			if (q[1] == '-' && q[2] && q[2] != ']') {
				hi = (unsigned char)q[2];
				if (hi == '\\' && q[3])
					hi = (unsigned char)q[3], q++;
				q += 2;
			}
			if (c >= lo && c <= hi)
				hit = 1;
			q++;
		}
		if (*q == ']') {
			*ok = hit != neg;
			return q + 1;
		}
		/* no closing bracket: a literal '[' */
	}
	if (*p == '\\' && p[1])
		p++;
	*ok = (unsigned char)*p == c;
	return p + 1;
}

int lf_glob(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	if (!p || !s)
		return 0;
	while (*s) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return 1;
			star_p = p;
			star_s = s;
			continue;
		}
		int ok = 0;
		const char *next = *p ? glob_one(p, (unsigned char)*s, &ok) : p;
		if (*p && ok) {
			p = next;
			s++;
			continue;
		}
		if (!star_p)
			return 0;
		/* let the last '*' take one more byte and try again */
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}
