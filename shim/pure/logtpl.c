/*
 * logtpl.c: compiling CTXSHIM_LOG_FORMAT templates and rendering the
 * prefix and suffix of a decorated line in each style.  Pure (see logtpl.h).
 */
#include "logtpl.h"
#include "logfmt.h"

#include <string.h>

/* ---- compiling ----------------------------------------------------------- */

static const struct {
	const char *name;
	uint8_t op;
	unsigned uses;
} builtins[] = {
	{ "message", LT_MESSAGE, 0 },   { "service", LT_SERVICE, 0 },
	{ "level", LT_LEVEL, 0 },       { "time", LT_TIME, LT_USES_TIME },
	{ "time_utc", LT_TIME_UTC, LT_USES_TIME }, { "pid", LT_PID, LT_USES_PID },
	{ "tid", LT_TID, LT_USES_TID }, { "caller", LT_CALLER, LT_USES_CALLER },
	{ "context", LT_CONTEXT, 0 },
};

static int add_item(struct lt_tpl *t, uint8_t op, const char *s, size_t len, size_t *used)
{
	if (t->n == LT_MAX_ITEMS || *used + len > LT_MAX_TEXT)
		return -1;
	/* consecutive literals merge (the text is laid out in order) */
	if (op == LT_LIT && t->n && t->it[t->n - 1].op == LT_LIT &&
	    t->it[t->n - 1].off + t->it[t->n - 1].len == *used) {
		memcpy(t->text + *used, s, len);
		t->it[t->n - 1].len = (uint16_t)(t->it[t->n - 1].len + len);
		*used += len;
		return 0;
	}
	memcpy(t->text + *used, s, len);
	t->it[t->n].op = op;
	t->it[t->n].off = (uint16_t)*used;
	t->it[t->n].len = (uint16_t)len;
	t->n++;
	*used += len;
	return 0;
}

int lt_compile(struct lt_tpl *t, const char *src)
{
	size_t used = 0;
	memset(t, 0, sizeof *t);
	t->msg = LT_MAX_ITEMS;
	if (!src)
		return -1;
	for (const char *p = src; *p;) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			if (add_item(t, LT_LIT, p, 1, &used) < 0)
				return -1;
			p += 2;
			continue;
		}
		size_t nl = 0;
		if (*p == '{') {
			while (cmap_key_valid(p + 1, nl + 1) && p[1 + nl] != '\0')
				nl++;
		}
		if (*p != '{' || nl == 0 || p[1 + nl] != '}') {
			if (add_item(t, LT_LIT, p, 1, &used) < 0)
				return -1;
			p++;
			continue;
		}
		uint8_t op = LT_KEY;
		for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
			if (strlen(builtins[i].name) == nl && !memcmp(builtins[i].name, p + 1, nl)) {
				op = builtins[i].op;
				t->uses |= builtins[i].uses;
			}
		}
		if (op == LT_MESSAGE) {
			if (t->msg != LT_MAX_ITEMS)
				return -1;
			t->msg = t->n;
		}
		if (add_item(t, op, p + 1, op == LT_KEY ? nl : 0, &used) < 0)
			return -1;
		p += nl + 2;
	}
	if (t->msg == LT_MAX_ITEMS)
		t->msg = t->n;
	return 0;
}

/* ---- rendering ----------------------------------------------------------- */

/* KEY in CTX, else in BASE; a tombstone in CTX hides BASE's entry. */
static const struct cmap_entry *find2(const struct cmap *ctx, const struct cmap *base,
				      const char *k, size_t kl)
{
	const struct cmap_entry *e = cmap_find(ctx, k, kl);
	if (!e)
		e = cmap_find(base, k, kl);
	return e && !e->tomb ? e : NULL;
}

static void put_num(struct lbuf *b, long v)
{
	char d[24];
	int i = sizeof d;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--i] = '-';
	lb_put(b, d + i, sizeof d - (size_t)i);
}

static void put_time(struct lbuf *b, const struct lt_fields *f, int utc)
{
	char t[32];
	lb_put(b, t, lf_iso8601(t, f->ms, f->utc_off_min, utc));
}

static void put_str(struct lbuf *b, const char *s)
{
	lb_put(b, s, strlen(s));
}

#define REQUEST_ID "request_id"
#define REQUEST_ID_LEN 10

static int is_request_id(const struct cmap_entry *e)
{
	return e->klen == REQUEST_ID_LEN && !memcmp(e->key, REQUEST_ID, REQUEST_ID_LEN);
}

/* Each visible entry, the request id first, then in key order; FN renders
 * one entry and the caller rolls back what exceeds LIMIT. */
typedef void (*entry_fn)(struct lbuf *b, const struct cmap_entry *e, int first);

static void each_entry(struct lbuf *b, const struct cmap *m, const struct cmap *base,
		       size_t limit, entry_fn fn, int first)
{
	const struct cmap_entry *rid = find2(m, base, REQUEST_ID, REQUEST_ID_LEN);
	if (rid) {
		size_t saved = b->len;
		fn(b, rid, first);
		if (b->len > limit)
			b->len = saved;
		else
			first = 0;
	}
	/* the thread's entries, then the base's it does not cover */
	for (int layer = 0; layer < 2; layer++) {
		const struct cmap *l = layer ? base : m;
		for (uint32_t i = 0; l && i < l->n; i++) {
			const struct cmap_entry *e = &l->e[i];
			if (e->tomb || is_request_id(e) || (layer && cmap_find(m, e->key, e->klen)))
				continue;
			size_t saved = b->len;
			fn(b, e, first);
			if (b->len > limit)
				b->len = saved;
			else
				first = 0;
		}
	}
}

static void context_entry(struct lbuf *b, const struct cmap_entry *e, int first)
{
	if (!first)
		lb_putc(b, ' ');
	lb_put(b, e->key, e->klen);
	lb_putc(b, '=');
	lf_logfmt_value(b, e->val, e->vlen);
}

/* Names the logfmt and json styles use themselves. */
static int reserved(const struct cmap_entry *e)
{
	static const char *const names[] = { "time", "level", "service", "msg", "message" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == e->klen && !memcmp(names[i], e->key, e->klen))
			return 1;
	return 0;
}

static void logfmt_entry(struct lbuf *b, const struct cmap_entry *e, int first)
{
	(void)first;
	lb_putc(b, ' ');
	if (reserved(e))
		lb_put(b, "ctx_", 4);
	lb_put(b, e->key, e->klen);
	lb_putc(b, '=');
	lf_logfmt_value(b, e->val, e->vlen);
}

static void json_entry(struct lbuf *b, const struct cmap_entry *e, int first)
{
	(void)first;
	lb_put(b, ",\"", 2);
	if (reserved(e))
		lb_put(b, "ctx_", 4);
	lb_put(b, e->key, e->klen);
	lb_put(b, "\":\"", 3);
	lf_json_string(b, e->val, e->vlen);
	lb_putc(b, '"');
}

static void text_item(struct lbuf *b, const struct lt_tpl *t, const struct lt_item *it,
		      const struct lt_fields *f)
{
	const struct cmap_entry *e;
	switch (it->op) {
	case LT_LIT:
		lb_put(b, t->text + it->off, it->len);
		break;
	case LT_KEY:
		e = find2(f->ctx, f->base, t->text + it->off, it->len);
		if (e)
			lf_text_value(b, e->val, e->vlen);
		break;
	case LT_SERVICE:
		lf_text_value(b, f->service, f->service_len);
		break;
	case LT_LEVEL:
		put_str(b, lf_level_name(f->level));
		break;
	case LT_TIME:
	case LT_TIME_UTC:
		put_time(b, f, it->op == LT_TIME_UTC);
		break;
	case LT_PID:
		put_num(b, f->pid);
		break;
	case LT_TID:
		put_num(b, f->tid);
		break;
	case LT_CALLER:
		if (f->caller)
			lf_text_value(b, f->caller, strlen(f->caller));
		else
			lb_putc(b, '?');
		break;
	case LT_CONTEXT:
		each_entry(b, f->ctx, f->base, b->cap, context_entry, 1);
		break;
	}
}

static size_t text_range(const struct lt_tpl *t, unsigned from, unsigned to,
			 const struct lt_fields *f, char *out, size_t cap)
{
	struct lbuf b;
	lb_init(&b, out, cap);
	for (unsigned i = from; i < to; i++) {
		size_t saved = b.len;
		text_item(&b, t, &t->it[i], f);
		if (!lb_ok(&b))
			b.len = saved;
	}
	return b.len;
}

/* ---- OpenTelemetry ----------------------------------------------------------
 *
 * One OTLP/JSON LogRecord per line (opentelemetry-proto's logs.proto in the
 * OTLP/JSON mapping: 64-bit integers as decimal strings, enums as integers,
 * ids as hex strings), with the record's Resource as an extra "resource"
 * member, since a line stands alone.  OTLP/JSON readers ignore unknown
 * members, so the record still parses as a LogRecord.  The body is last so
 * that the message, escaped by the caller, closes the line. */

/* A string literal, its length counted by the compiler. */
#define PUT_LIT(b, s) lb_put(b, s, sizeof s - 1)

int lt_otel_severity(int level)
{
	static const unsigned char sev[8] = { 21, 19, 18, 17, 13, 10, 9, 5 };
	return sev[level & 7];
}

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* N hex digits, and for ids not all zero (W3C Trace Context's invalid id). */
static int hex_ok(const char *v, size_t vl, size_t n, int id)
{
	int nonzero = 0;
	if (vl != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!hexdigit(v[i]))
			return 0;
		nonzero |= v[i] != '0';
	}
	return nonzero || !id;
}

static int key_is(const struct cmap_entry *e, const char *k, size_t kl)
{
	return e->klen == kl && !memcmp(e->key, k, kl);
}

/* Which of the record's own fields entry E fills: 1 traceId, 2 spanId,
 * 3 flags; 0 when it is an attribute (also when its value is not a valid
 * id: then it stays visible as the attribute it is). */
static int otel_field(const struct cmap_entry *e)
{
	if (key_is(e, "trace_id", 8) && hex_ok(e->val, e->vlen, 32, 1))
		return 1;
	if (key_is(e, "span_id", 7) && hex_ok(e->val, e->vlen, 16, 1))
		return 2;
	if (key_is(e, "trace_flags", 11) && hex_ok(e->val, e->vlen, 2, 0))
		return 3;
	return 0;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void put_hex_lower(struct lbuf *b, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lb_putc(b, v[i] >= 'A' && v[i] <= 'F' ? (char)(v[i] | 0x20) : v[i]);
}

static void otel_entry(struct lbuf *b, const struct cmap_entry *e, int first)
{
	(void)first;   /* each_entry counts a left-out entry as written */
	if (b->len > b->cap || otel_field(e))
		return;
	/* the array's previous byte says whether this is its first element */
	if (b->p[b->len - 1] != '[')
		lb_putc(b, ',');
	PUT_LIT(b, "{\"key\":\"");
	lb_put(b, e->key, e->klen);   /* keys are [A-Za-z0-9_.-]: nothing to escape */
	PUT_LIT(b, "\",\"value\":{\"stringValue\":\"");
	lf_json_string(b, e->val, e->vlen);
	PUT_LIT(b, "\"}}");
}

static size_t otel_prefix(const struct lt_fields *f, char *out, size_t cap)
{
	static const char tail[] = "],\"body\":{\"stringValue\":\"";
	static const char svc[] = ",\"resource\":{\"attributes\":[{\"key\":\"service.name\","
				  "\"value\":{\"stringValue\":\"";
	const size_t tl = sizeof tail - 1;
	struct lbuf b;
	if (cap < 320)           /* the fixed members need about 260 bytes */
		return 0;
	lb_init(&b, out, cap);
	PUT_LIT(&b, "{\"timeUnixNano\":\"");
	put_num(&b, (long)(f->ms * 1000000 + f->ns));
	PUT_LIT(&b, "\",\"severityNumber\":");
	put_num(&b, lt_otel_severity(f->level));
	PUT_LIT(&b, ",\"severityText\":\"");
	put_str(&b, lf_level_name(f->level));
	lb_putc(&b, '"');
	static const char *const names[] = { "trace_id", "span_id", "trace_flags" };
	for (int i = 0; i < 3; i++) {
		const struct cmap_entry *e = find2(f->ctx, f->base, names[i], strlen(names[i]));
		int which = e ? otel_field(e) : 0;
		if (which == 1 || which == 2) {
			put_str(&b, which == 1 ? ",\"traceId\":\"" : ",\"spanId\":\"");
			put_hex_lower(&b, e->val, e->vlen);
			lb_putc(&b, '"');
		} else if (which == 3) {
			PUT_LIT(&b, ",\"flags\":");
			put_num(&b, hexval(e->val[0]) * 16 + hexval(e->val[1]));
		}
	}
	lb_put(&b, svc, sizeof svc - 1);
	size_t saved = b.len;
	lf_json_string(&b, f->service, f->service_len);
	if (b.len + 24 + tl > cap)   /* a service name that does not fit: empty */
		b.len = saved;
	PUT_LIT(&b, "\"}}]},\"attributes\":[");
	if (b.len + tl > cap)
		return 0;
	each_entry(&b, f->ctx, f->base, cap - tl, otel_entry, 1);
	lb_put(&b, tail, tl);
	return lb_ok(&b) ? b.len : 0;
}

size_t lt_prefix(const struct lt_tpl *t, int style, const struct lt_fields *f,
		 char *out, size_t cap)
{
	struct lbuf b;
	char tm[32];
	static const char lf_tail[] = " msg=\"";
	static const char js_tail[] = ",\"message\":\"";

	if (style == LF_TEXT)
		return text_range(t, 0, t->msg, f, out, cap);
	if (style == LF_OTEL)
		return otel_prefix(f, out, cap);
	size_t tail = style == LF_JSON ? sizeof js_tail - 1 : sizeof lf_tail - 1;
	if (cap < tail + 96)     /* the fixed fields need about 80 bytes */
		return 0;
	lb_init(&b, out, cap);
	lf_iso8601(tm, f->ms, 0, 1);
	if (style == LF_JSON) {
		lb_put(&b, "{\"time\":\"", 9);
		put_str(&b, tm);
		lb_put(&b, "\",\"level\":\"", 11);
		put_str(&b, lf_level_name(f->level));
		lb_put(&b, "\",\"service\":\"", 13);
		size_t saved = b.len;
		lf_json_string(&b, f->service, f->service_len);
		if (b.len + 1 + tail > cap)
			b.len = saved;
		lb_putc(&b, '"');
		each_entry(&b, f->ctx, f->base, cap - tail, json_entry, 0);
		lb_put(&b, js_tail, tail);
	} else {
		lb_put(&b, "time=", 5);
		put_str(&b, tm);
		lb_put(&b, " level=", 7);
		put_str(&b, lf_level_name(f->level));
		lb_put(&b, " service=", 9);
		size_t saved = b.len;
		lf_logfmt_value(&b, f->service, f->service_len);
		if (b.len + tail > cap)
			b.len = saved;
		each_entry(&b, f->ctx, f->base, cap - tail, logfmt_entry, 0);
		lb_put(&b, lf_tail, tail);
	}
	return lb_ok(&b) ? b.len : 0;
}

int lt_has_suffix(const struct lt_tpl *t, int style)
{
	return style != LF_TEXT || t->msg + 1 < t->n;
}

unsigned lt_uses(const struct lt_tpl *t, int style)
{
	return style == LF_TEXT ? t->uses : LT_USES_TIME;
}

size_t lt_suffix(const struct lt_tpl *t, int style, const struct lt_fields *f,
		 char *out, size_t cap)
{
	if (style == LF_JSON) {
		if (cap < 2)
			return 0;
		memcpy(out, "\"}", 2);
		return 2;
	}
	if (style == LF_OTEL) {   /* the body's string, the body, the record */
		if (cap < 3)
			return 0;
		memcpy(out, "\"}}", 3);
		return 3;
	}
	if (style == LF_LOGFMT) {
		if (cap < 1)
			return 0;
		out[0] = '"';
		return 1;
	}
	if (t->msg >= t->n)
		return 0;
	return text_range(t, t->msg + 1, t->n, f, out, cap);
}

static void sd_entry(struct lbuf *b, const struct cmap_entry *e, int first)
{
	(void)first;
	if (e->klen > 32) {       /* SD-NAME is at most 32 characters */
		b->len = b->cap + 1;  /* rolled back by each_entry */
		return;
	}
	lb_putc(b, ' ');
	lb_put(b, e->key, e->klen);
	lb_put(b, "=\"", 2);
	lf_sd_value(b, e->val, e->vlen);
	lb_putc(b, '"');
}

size_t lt_sd(const struct cmap *ctx, const struct cmap *base, char *out, size_t cap)
{
	struct lbuf b;
	static const char head[] = "[" LT_SD_ID;
	if (cap < sizeof head + 1)
		return 0;
	lb_init(&b, out, cap);
	lb_put(&b, head, sizeof head - 1);
	each_entry(&b, ctx, base, cap - 1, sd_entry, 0);
	if (b.len == sizeof head - 1)
		return 0;
	lb_putc(&b, ']');
	return b.len;
}
