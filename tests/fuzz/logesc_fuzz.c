/*
 * logesc_fuzz.c: libFuzzer target for the log escapers (shim/pure/logfmt.c)
 * and the RFC 5424 structured data syslog sends (lt_sd in shim/pure/logtpl.c).
 *
 * Input: byte 0 picks a piece size (and whether the line's end comes with
 * the last piece or after it) and byte 1 an output capacity for the
 * streaming message escaper; the rest is the value.  Every escaper's output
 * goes to a buffer of exactly its capacity (ASan sees one byte past it) and
 * must be well formed for its format, in valid UTF-8, hold no raw C0 or C1
 * control, DEL or line separator, and decode back to the value (invalid
 * UTF-8 as U+FFFD where the style says so).  The streaming escaper's output
 * depends neither on the piece size nor on the capacity.
 */
#include "fuzz_check.h"
#include "logfmt.h"
#include "logtpl.h"
#include "map.h"

#include <stdio.h>
#include <stdlib.h>

/* Run one escaper into a buffer of exactly its size; returns the bytes. */
typedef void (*esc_fn)(struct lbuf *b, const char *s, size_t n);

static char *render(esc_fn fn, const char *s, size_t n, size_t *len)
{
	struct lbuf b;
	lb_init(&b, NULL, 0);
	fn(&b, s, n);               /* measures: nothing stored with cap 0 */
	size_t need = b.len;
	char *out = malloc(need ? need : 1);
	lb_init(&b, out, need);
	fn(&b, s, n);
	CHECK(b.len == need);
	/* one byte short must not write past the end either */
	if (need) {
		char *small = malloc(need - 1 ? need - 1 : 1);
		lb_init(&b, small, need - 1);
		fn(&b, s, n);
		CHECK(!lb_ok(&b));
		free(small);
	}
	*len = need;
	return out;
}

static void json_string(const char *s, size_t n, char *want, size_t wn, char *dec)
{
	size_t len;
	char *o = render(lf_json_string, s, n, &len);
	CHECK(fc_no_c0(o, len));
	CHECK(fc_utf8_valid(o, len));
	CHECK(fc_no_linesep(o, len));
	CHECK(fc_no_c1(o, len));
	size_t dn = fc_json_body(o, len, dec);
	CHECK(dn != (size_t)-1);
	CHECK(dn == wn && !memcmp(dec, want, wn));
	free(o);
}

static void logfmt_value(const char *s, size_t n, char *want, size_t wn, char *dec)
{
	size_t len;
	char *o = render(lf_logfmt_value, s, n, &len);
	CHECK(fc_no_c0(o, len));
	CHECK(fc_utf8_valid(o, len));
	CHECK(fc_no_c1(o, len) && fc_no_linesep(o, len));
	if (n == 0) {
		CHECK(len == 0);
	} else if (o[0] != '"') {
		/* bare: the value itself, printable ASCII without ' ' = " \ */
		CHECK(len == n && !memcmp(o, s, n));
		for (size_t i = 0; i < n; i++)
			CHECK(s[i] > ' ' && s[i] < 0x7f && !strchr("=\"\\", s[i]));
	} else {
		CHECK(len >= 2 && o[len - 1] == '"');
		size_t dn = fc_json_body(o + 1, len - 2, dec);
		CHECK(dn != (size_t)-1);
		CHECK(dn == wn && !memcmp(dec, want, wn));
	}
	free(o);
}

/* Text style: C0, DEL, '\' and bytes that are not UTF-8 escaped as \n \r
 * \t \\ \xNN, C1 controls and line separators as \uNNNN; everything else
 * copied, so decoding gives back the exact bytes. */
static void text_value(const char *s, size_t n, char *dec)
{
	size_t len, o = 0;
	char *out = render(lf_text_value, s, n, &len);
	CHECK(fc_no_c0(out, len));
	CHECK(fc_no_linesep(out, len));
	CHECK(fc_no_c1(out, len) && fc_utf8_valid(out, len));
	for (size_t i = 0; i < len;) {
		if (out[i] != '\\') {
			dec[o++] = out[i++];
			continue;
		}
		CHECK(i + 1 < len);
		char e = out[i + 1];
		if (e == '\\' || e == 'n' || e == 'r' || e == 't') {
			dec[o++] = e == '\\' ? '\\' : e == 'n' ? '\n' : e == 'r' ? '\r' : '\t';
			i += 2;
		} else if (e == 'x') {
			CHECK(i + 4 <= len);
			int h = fc_hex((unsigned char)out[i + 2]), l = fc_hex((unsigned char)out[i + 3]);
			CHECK(h >= 0 && l >= 0);
			/* a C0 control, DEL, or a byte that is not UTF-8 */
			CHECK(h < 2 || (h == 7 && l == 15) || h >= 8);
			dec[o++] = (char)(h << 4 | l);
			i += 4;
		} else {
			CHECK(e == 'u' && i + 6 <= len);
			unsigned cp = 0;
			for (int k = 2; k < 6; k++) {
				int h = fc_hex((unsigned char)out[i + k]);
				CHECK(h >= 0);
				cp = cp << 4 | (unsigned)h;
			}
			CHECK((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029);
			o += fc_put_cp(dec + o, cp);
			i += 6;
		}
	}
	CHECK(o == n && !memcmp(dec, s, n));
	free(out);
}

/* An RFC 5424 PARAM-VALUE (section 6.3.3): '"', '\' and ']' escaped; C0
 * control bytes and DEL as \xNN, C1 controls and U+2028/U+2029 as \uNNNN
 * (README's table); valid UTF-8 (invalid bytes as U+FFFD). */
static size_t sd_body(const char *p, size_t n, char *dec)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char c = p[i];
		if (c == '"' || c == ']')
			return (size_t)-1;
		if (c != '\\') {
			dec[o++] = p[i++];
			continue;
		}
		if (i + 1 >= n)
			return (size_t)-1;
		char e = p[i + 1];
		if (e == '"' || e == '\\' || e == ']') {
			dec[o++] = e;
			i += 2;
		} else if (e == 'x' && i + 4 <= n && fc_hex((unsigned char)p[i + 2]) >= 0 &&
			   fc_hex((unsigned char)p[i + 3]) >= 0) {
			int c = fc_hex((unsigned char)p[i + 2]) << 4 | fc_hex((unsigned char)p[i + 3]);
			if (c >= 0x20 && c != 0x7f)
				return (size_t)-1;
			dec[o++] = (char)c;
			i += 4;
		} else if (e == 'u' && i + 6 <= n) {
			unsigned cp = 0;
			for (int k = 2; k < 6; k++) {
				int h = fc_hex((unsigned char)p[i + k]);
				if (h < 0)
					return (size_t)-1;
				cp = cp << 4 | (unsigned)h;
			}
			if (!(cp >= 0x80 && cp <= 0x9f) && cp != 0x2028 && cp != 0x2029)
				return (size_t)-1;
			o += fc_put_cp(dec + o, cp);
			i += 6;
		} else {
			return (size_t)-1;
		}
	}
	return o;
}

static void sd_value(const char *s, size_t n, char *want, size_t wn, char *dec)
{
	size_t len;
	char *o = render(lf_sd_value, s, n, &len);
	CHECK(fc_no_c0(o, len));
	CHECK(fc_utf8_valid(o, len));
	CHECK(fc_no_c1(o, len) && fc_no_linesep(o, len));
	size_t dn = sd_body(o, len, dec);
	CHECK(dn == wn && !memcmp(dec, want, wn));
	free(o);
}

/* The streaming message escaper driven the way log_line.c drives it
 * (push_escaped, join_held): the message S comes in pieces of STEP bytes
 * (0: one piece), escaped into a buffer of CAP bytes that is flushed when
 * a unit does not fit.  A UTF-8 sequence cut by the end of a piece is not
 * consumed (*pend says how many bytes): it is held and completed with the
 * bytes of the next piece, escaped whole (lf_json_string), or, when those
 * bytes or the end of the line show it never will be, each of its bytes
 * becomes \ufffd.  LAST_EMPTY: the line's end comes as a piece of its own
 * (the newline in a write of its own, with nothing before it), else with
 * the last piece. */
static void put_unit(char *out, size_t *o, const unsigned char *j, size_t k)
{
	char u[24];
	struct lbuf b;
	lb_init(&b, u, sizeof u);
	lf_json_string(&b, (const char *)j, k);
	CHECK(lb_ok(&b));
	memcpy(out + *o, u, b.len);
	*o += b.len;
}

static char *stream(int style, const char *s, size_t n, size_t step, size_t cap,
		    int last_empty, size_t *len)
{
	char *out = malloc(n * 6 + 1), *buf = malloc(cap);
	unsigned char held[4];
	size_t nheld = 0, o = 0;
	size_t npieces = n == 0 ? 0 : step ? (n + step - 1) / step : 1;
	for (size_t pi = 0, off = 0; pi < npieces + (last_empty || n == 0); pi++) {
		size_t piece = pi < npieces ? (step && n - off > step ? step : n - off) : 0;
		int line_ends = pi + 1 == npieces + (last_empty || n == 0);
		/* a copy of exactly its size: ASan sees a read past the piece */
		char *p = malloc(piece ? piece : 1);
		memcpy(p, s + off, piece);
		size_t used = 0;
		if (nheld) {
			/* join_held: continue the held sequence with P's bytes */
			int t;
			for (;;) {
				if (used == piece) {
					if (line_ends)
						break;          /* never completed */
					goto next;              /* still cut: held on */
				}
				held[nheld] = (unsigned char)p[used];
				if (lf_utf8_seq(held, nheld + 1, &t)) {
					nheld++, used++;        /* complete */
					break;
				}
				if (!t)
					break;                  /* not continued */
				nheld++, used++;
				CHECK(nheld <= 3);
			}
			put_unit(out, &o, held, nheld);
			nheld = 0;
		}
		while (used < piece) {
			struct lbuf b;
			unsigned pend = 7;
			lb_init(&b, buf, cap);
			size_t k = lf_escape_msg(style, p + used, piece - used, &pend, &b);
			CHECK(k <= piece - used && lb_ok(&b));
			/* what is left is only a cut sequence, or what did not fit */
			CHECK(pend <= 3 && (pend == 0 || k + pend == piece - used));
			/* progress: a 6-byte buffer holds any unit */
			CHECK(k > 0 || b.len > 0 || pend > 0);
			memcpy(out + o, buf, b.len);
			o += b.len;
			used += k;
			if (pend) {
				if (line_ends) {
					put_unit(out, &o, (const unsigned char *)p + used, pend);
				} else {
					memcpy(held, p + used, pend);
					nheld = pend;
				}
				used += pend;
			}
		}
	next:
		free(p);
		off += piece;
	}
	CHECK(nheld == 0);
	free(buf);
	*len = o;
	return out;
}

static void escape_msg(const char *s, size_t n, size_t step, size_t cap, int last_empty,
		       char *want, size_t wn, char *dec)
{
	size_t len, wlen, jlen;
	/* the reference: the message escaped whole, as a JSON string */
	char *ref = render(lf_json_string, s, n, &jlen);
	for (int style = LF_LOGFMT; style <= LF_JSON; style++) {
		char *o = stream(style, s, n, step, cap, last_empty, &len);
		char *whole = stream(style, s, n, 0, 1 << 16, !last_empty, &wlen);
		/* neither the pieces, nor the buffer, nor where the line's end
		 * comes changes a byte: the output is the whole message's */
		CHECK(len == wlen && !memcmp(o, whole, len));
		CHECK(len == jlen && !memcmp(o, ref, len));
		CHECK(fc_no_c0(o, len));
		CHECK(fc_no_c1(o, len));
		CHECK(fc_no_linesep(o, len));
		/* valid UTF-8 whatever the input: a sequence cut at the end of
		 * the line, or one the next bytes do not go on with, is U+FFFD */
		CHECK(fc_utf8_valid(o, len));
		size_t dn = fc_json_body(o, len, dec);
		CHECK(dn != (size_t)-1);
		/* each byte that does not start a valid sequence is U+FFFD,
		 * the rest comes back unchanged (all of it when S is UTF-8) */
		CHECK(dn == wn && !memcmp(dec, want, wn));
		if (fc_utf8_valid(s, n))
			CHECK(dn == n && !memcmp(dec, s, n));
		free(whole);
		free(o);
	}
	free(ref);
}

/* lt_sd over a context built from S: "[ctx@32473" (" " NAME "=" '"' VALUE
 * '"')* "]", each NAME a visible key of at most 32 bytes, once. */
static void structured_data(const char *s, size_t n, char *dec)
{
	struct cmap *m = NULL;
	/* entries: a key from one byte (request_id, a short one, or one over
	 * SD-NAME's 32 bytes), a value of the next up to 40 bytes */
	for (size_t i = 0; i + 1 < n;) {
		char key[64];
		unsigned kb = (unsigned char)s[i];
		int kl;
		if (kb % 4 == 0)
			kl = snprintf(key, sizeof key, "request_id");
		else if (kb % 4 == 1)
			kl = snprintf(key, sizeof key, "a_key_longer_than_thirty_two_bytes_%u", kb >> 2);
		else
			kl = snprintf(key, sizeof key, "k%u", kb >> 2);
		size_t vl = (unsigned char)s[i + 1] % 41;
		if (vl > n - i - 2)
			vl = n - i - 2;
		struct cmap *next;
		if (cmap_with(m, key, (size_t)kl, s + i + 2, vl, 0, &next) < 0)
			break;
		cmap_unref(m);
		m = next;
		i += 2 + vl;
	}
	size_t cap = 64 + n * 5;
	char *out = malloc(cap);
	size_t len = lt_sd(m, NULL, out, cap);
	CHECK(len <= cap);
	if (len) {
		CHECK(len >= 12 && !memcmp(out, "[" LT_SD_ID, 10) && out[len - 1] == ']');
		CHECK(fc_no_c0(out, len) && fc_utf8_valid(out, len));
		size_t i = 10, shown = 0;
		while (i < len - 1) {
			CHECK(out[i] == ' ');
			size_t k = ++i;
			while (i < len && out[i] != '=')
				i++;
			CHECK(i < len && i - k >= 1 && i - k <= 32 && cmap_key_valid(out + k, i - k));
			const struct cmap_entry *e = cmap_find(m, out + k, i - k);
			CHECK(e);
			CHECK(i + 1 < len && out[i + 1] == '"');
			i += 2;
			size_t v = i;
			while (i < len && out[i] != '"')
				i += out[i] == '\\' ? 2 : 1;
			CHECK(i < len - 1);
			/* the request id first */
			if (shown == 0 && cmap_find(m, "request_id", 10))
				CHECK(e->klen == 10 && !memcmp(e->key, "request_id", 10));
			char want[41 * 3];
			size_t wn = fc_replace_invalid(e->val, e->vlen, want);
			size_t dn = sd_body(out + v, i - v, dec);
			CHECK(dn == wn && !memcmp(dec, want, wn));
			i++;
			shown++;
		}
		/* with room for everything, every entry fit for SD is there */
		size_t fit = 0;
		for (uint32_t j = 0; j < m->n; j++)
			fit += m->e[j].klen <= 32;
		CHECK(shown == fit);
	}
	free(out);
	cmap_unref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t step = data[0] % 9;
	size_t cap = 6 + data[1] % 32;
	const char *s = (const char *)data + 2;
	size_t n = size - 2;
	char *want = malloc(n * 3 + 1), *dec = malloc(n * 6 + 1);
	size_t wn = fc_replace_invalid(s, n, want);

	json_string(s, n, want, wn, dec);
	logfmt_value(s, n, want, wn, dec);
	text_value(s, n, dec);
	sd_value(s, n, want, wn, dec);
	escape_msg(s, n, step, cap, data[0] / 9 & 1, want, wn, dec);
	structured_data(s, n, dec);
	free(want);
	free(dec);
	return 0;
}
