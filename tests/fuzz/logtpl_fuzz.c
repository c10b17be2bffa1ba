/*
 * logtpl_fuzz.c: libFuzzer target for the log template compiler and the
 * line decorations (pure_logtpl.c): CTXSHIM_LOG_FORMAT comes from the
 * environment, the context's keys and values from requests.
 *
 * Input: the template up to the first NUL; after it, the fields (level,
 * time, pid, a capacity) and the context's entries.  Properties:
 *  - lt_compile's result is consistent (items, text, {message} once) and
 *    written back as a template it compiles to the same items;
 *  - every prefix and suffix fits its capacity (buffers of exactly that
 *    size); in json style prefix + suffix is one JSON object of strings, in
 *    logfmt style a row of key=value pairs ending msg="", both without raw
 *    C0 or C1 control or line separator and in valid UTF-8; in text style
 *    no value brings a raw control or line separator (only the template's
 *    own text may).
 */
#include "fuzz_check.h"
#include "logfmt.h"
#include "logtpl.h"
#include "map.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const builtin_names[] = {
	[LT_SERVICE] = "service", [LT_LEVEL] = "level", [LT_TIME] = "time",
	[LT_TIME_UTC] = "time_utc", [LT_PID] = "pid", [LT_TID] = "tid",
	[LT_CALLER] = "caller", [LT_CONTEXT] = "context", [LT_MESSAGE] = "message",
};

static void check_compiled(const struct lt_tpl *t)
{
	CHECK(t->n <= LT_MAX_ITEMS && t->msg <= t->n);
	for (unsigned i = 0; i < t->n; i++) {
		const struct lt_item *it = &t->it[i];
		CHECK(it->op <= LT_MESSAGE);
		CHECK((size_t)it->off + it->len <= LT_MAX_TEXT);
		if (it->op == LT_KEY)
			CHECK(cmap_key_valid(t->text + it->off, it->len));
		else if (it->op != LT_LIT)
			CHECK(it->len == 0);
		else
			CHECK(it->len > 0);
		/* literals next to each other are one */
		if (i && it->op == LT_LIT)
			CHECK(t->it[i - 1].op != LT_LIT);
		CHECK((it->op == LT_MESSAGE) == (i == t->msg));
	}
}

/* The template T as source text: braces doubled, fields as {name}. */
static size_t write_back(const struct lt_tpl *t, char *out)
{
	size_t o = 0;
	for (unsigned i = 0; i < t->n; i++) {
		const struct lt_item *it = &t->it[i];
		if (it->op == LT_LIT) {
			for (unsigned k = 0; k < it->len; k++) {
				char c = t->text[it->off + k];
				out[o++] = c;
				if (c == '{' || c == '}')
					out[o++] = c;
			}
		} else {
			const char *name = it->op == LT_KEY ? t->text + it->off : builtin_names[it->op];
			size_t nl = it->op == LT_KEY ? it->len : strlen(name);
			out[o++] = '{';
			memcpy(out + o, name, nl);
			o += nl;
			out[o++] = '}';
		}
	}
	out[o] = '\0';
	return o;
}

static void same_items(const struct lt_tpl *a, const struct lt_tpl *b)
{
	CHECK(a->n == b->n && a->msg == b->msg && a->uses == b->uses);
	for (unsigned i = 0; i < a->n; i++) {
		CHECK(a->it[i].op == b->it[i].op && a->it[i].len == b->it[i].len);
		CHECK(!memcmp(a->text + a->it[i].off, b->text + b->it[i].off, a->it[i].len));
	}
}

/* A JSON string starting at P[*I] ('"'); moves *I past it. */
static void json_str(const char *p, size_t n, size_t *i, char *dec)
{
	CHECK(*i < n && p[*i] == '"');
	size_t s = ++*i;
	while (*i < n && p[*i] != '"')
		*i += p[*i] == '\\' ? 2 : 1;
	CHECK(*i < n);
	CHECK(fc_json_body(p + s, *i - s, dec) != (size_t)-1);
	++*i;
}

/* {"k":"v","k":"v",...}: an object of strings, the last member "message". */
static void check_json_line(const char *p, size_t n, char *dec)
{
	size_t i = 1, last = 0;
	CHECK(n >= 2 && p[0] == '{' && p[n - 1] == '}');
	for (;;) {
		last = i;
		json_str(p, n, &i, dec);
		CHECK(i < n && p[i++] == ':');
		json_str(p, n, &i, dec);
		CHECK(i < n);
		if (p[i] == '}')
			break;
		CHECK(p[i++] == ',');
	}
	CHECK(i == n - 1);
	CHECK(!memcmp(p + last, "\"message\":\"\"", 12));
}

/* key=value pairs separated by one space, values bare or JSON-quoted; the
 * last one msg="". */
static void check_logfmt_line(const char *p, size_t n, char *dec)
{
	size_t i = 0, last = 0;
	while (i < n) {
		last = i;
		size_t k = i;
		while (i < n && p[i] != '=')
			i++;
		CHECK(i < n && cmap_key_valid(p + k, i - k));
		i++;
		if (i < n && p[i] == '"') {
			json_str(p, n, &i, dec);
		} else {
			for (; i < n && p[i] != ' '; i++) {
				unsigned char c = (unsigned char)p[i];
				CHECK(c > ' ' && c < 0x7f && c != '"' && c != '=' && c != '\\');
			}
		}
		if (i < n)
			CHECK(p[i++] == ' ' && i < n);
	}
	CHECK(n - last == 6 && !memcmp(p + last, "msg=\"\"", 6));
}

static size_t render(int prefix, const struct lt_tpl *t, int style,
		     const struct lt_fields *f, size_t cap, char *dst)
{
	char *out = malloc(cap ? cap : 1);
	size_t n = prefix ? lt_prefix(t, style, f, out, cap) : lt_suffix(t, style, f, out, cap);
	CHECK(n <= cap);
	memcpy(dst, out, n);
	free(out);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tl = nul ? (size_t)(nul - data) : size;
	char *src = malloc(tl + 1);
	memcpy(src, data, tl);
	src[tl] = '\0';

	struct lt_tpl *t = malloc(sizeof *t), *t2 = malloc(sizeof *t2);
	if (lt_compile(t, src) < 0) {
		free(src), free(t), free(t2);
		return 0;
	}
	check_compiled(t);
	char *back = malloc(LT_MAX_TEXT * 2 + LT_MAX_ITEMS * 12 + 1);
	write_back(t, back);
	CHECK(lt_compile(t2, back) == 0);
	same_items(t, t2);
	free(back);

	/* the rest: 16 bytes of fields, then entries */
	const uint8_t *r = nul ? nul + 1 : data + size;
	size_t rn = (size_t)(data + size - r);
	uint8_t fb[16] = { 0 };
	memcpy(fb, r, rn < 16 ? rn : 16);
	r += rn < 16 ? rn : 16;
	rn -= rn < 16 ? rn : 16;

	struct cmap *m = NULL, *base = NULL;
	char svc[24];
	size_t svl = 0;
	for (size_t i = 0; i + 1 < rn;) {
		char key[72];
		unsigned kb = r[i];
		static const char *const keys[] = {
			"request_id", "time", "message", "msg", "ctx_time", "level", "user",
			"service",
		};
		int kl = kb < 8 * 16 ? snprintf(key, sizeof key, "%s", keys[kb % 8])
				     : snprintf(key, sizeof key, "k%u", kb & 15);
		size_t vl = r[i + 1] % 48;
		if (vl > rn - i - 2)
			vl = rn - i - 2;
		struct cmap **which = r[i + 1] & 0x80 ? &base : &m, *next;
		if (cmap_with(*which, key, (size_t)kl, (const char *)r + i + 2, vl, 0, &next) < 0)
			break;
		cmap_unref(*which);
		*which = next;
		if (svl == 0 && vl) {
			svl = vl < sizeof svc ? vl : sizeof svc;
			memcpy(svc, r + i + 2, svl);
		}
		i += 2 + vl;
	}
	char caller[8];
	memcpy(caller, fb + 8, 7);
	caller[7] = '\0';
	struct lt_fields f = {
		.ctx = m, .base = base, .service = svl ? svc : "svc",
		.service_len = svl ? svl : 3, .level = fb[0] & 7,
		.ms = (int64_t)((uint64_t)fb[1] << 40 | (uint64_t)fb[2] << 24 | fb[3]) -
		      ((int64_t)1 << 47),
		.utc_off_min = (int)(fb[4] % 240) * 15 - 1800, .pid = (long)fb[5] * 977,
		.tid = -(long)fb[6], .caller = fb[7] & 1 ? NULL : caller,
	};
	size_t small = (size_t)fb[15] * 4;
	/* the template's own text, its literals one after another: a field
	 * that comes out empty joins its neighbours ("\xe2\x80{k}\xa9" with k
	 * unset is U+2029), and a value's escapes start and end whole */
	char *lits = malloc((size_t)LT_MAX_TEXT * LT_MAX_ITEMS);
	size_t ll = 0;
	for (unsigned i = 0; i < t->n; i++)
		if (t->it[i].op == LT_LIT) {
			memcpy(lits + ll, t->text + t->it[i].off, t->it[i].len);
			ll += t->it[i].len;
		}
	int tpl_clean = fc_no_c0(lits, ll) && fc_no_c1(lits, ll) && fc_no_linesep(lits, ll);
	free(lits);

	char *line = malloc(2 * 65536), *dec = malloc(6 * 65536);
	for (int style = LF_TEXT; style <= LF_JSON; style++) {
		for (int c = 0; c < 2; c++) {
			size_t cap = c ? 32768 : small;
			size_t pn = render(1, t, style, &f, cap, line);
			size_t sn = render(0, t, style, &f, cap, line + pn);
			CHECK(lt_has_suffix(t, style) || sn == 0);
			if (style == LF_TEXT) {
				if (tpl_clean)
					CHECK(fc_no_c0(line, pn + sn) && fc_no_c1(line, pn + sn) &&
					      fc_no_linesep(line, pn + sn));
				continue;
			}
			CHECK(fc_no_c1(line, pn + sn) && fc_no_linesep(line, pn + sn));
			if (pn == 0) {
				CHECK(c == 0);   /* only a small buffer may leave it out */
				continue;
			}
			CHECK(fc_no_c0(line, pn + sn) && fc_utf8_valid(line, pn + sn));
			if (style == LF_JSON)
				check_json_line(line, pn + sn, dec);
			else
				check_logfmt_line(line, pn + sn, dec);
		}
	}
	free(line);
	free(dec);
	cmap_unref(m);
	cmap_unref(base);
	free(src), free(t), free(t2);
	return 0;
}
