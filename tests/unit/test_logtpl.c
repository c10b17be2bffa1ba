/* Unit tests of logtpl.c: templates, styles, structured data. */
#include "logfmt.h"
#include "logtpl.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) EXPECT(cond)
/* LIT occurs in BUF[0..N) */
#define HAS(buf, n, lit) (memmem(buf, n, lit, sizeof lit - 1) != NULL)

static struct cmap *with(struct cmap *m, const char *k, const char *v)
{
	struct cmap *n;
	if (cmap_with(m, k, strlen(k), v, strlen(v), 0, &n) < 0)
		abort();
	cmap_unref(m);
	return n;
}

static struct lt_fields fields(const struct cmap *ctx)
{
	struct lt_fields f = {
		.ctx = ctx, .service = "api", .service_len = 3, .level = 6,
		.ms = 1709210096789LL, .utc_off_min = 60, .pid = 42, .tid = 43,
		.caller = "main+0x1c",
	};
	return f;
}

static void same(const char *got, size_t len, const char *want, int line)
{
	if (len != strlen(want) || memcmp(got, want, len)) {
		fprintf(stderr, "line %d: got [%.*s]\n          want [%s]\n", line, (int)len, got, want);
		unit_failed++;
	}
}

/* Prefix and suffix of TPL in STYLE around "MSG". */
static void render(const char *tpl, int style, const struct cmap *ctx, const char *want, int line)
{
	struct lt_tpl t;
	struct lt_fields f = fields(ctx);
	char out[1024], pre[512], suf[512];
	if (lt_compile(&t, tpl) < 0) {
		fprintf(stderr, "line %d: template rejected\n", line);
		unit_failed++;
		return;
	}
	size_t p = lt_prefix(&t, style, &f, pre, sizeof pre);
	size_t s = lt_suffix(&t, style, &f, suf, sizeof suf);
	int n = snprintf(out, sizeof out, "%.*sMSG%.*s", (int)p, pre, (int)s, suf);
	same(out, (size_t)n, want, line);
	CHECK(lt_has_suffix(&t, style) == (s > 0));
}
#define RENDER(tpl, style, ctx, want) render(tpl, style, ctx, want, __LINE__)

static void test_text(void)
{
	struct cmap *m = with(with(NULL, "request_id", "abc"), "request_path", "/x");
	m = with(m, "conn_id", "7");
	/* aiolocals' format */
	RENDER("{service}: [{request_path}#{request_id}] {level} - {message}", LF_TEXT, m,
	       "api: [/x#abc] info - MSG");
	RENDER("[{context}] {message}", LF_TEXT, m,
	       "[request_id=abc conn_id=7 request_path=/x] MSG");
	RENDER("{time} {time_utc} {pid}/{tid} {caller}: {message}", LF_TEXT, m,
	       "2024-02-29T13:34:56.789+01:00 2024-02-29T12:34:56.789Z 42/43 main+0x1c: MSG");
	RENDER("{message} (rid={request_id})", LF_TEXT, m, "MSG (rid=abc)");
	RENDER("[{request_id}] ", LF_TEXT, m, "[abc] MSG");              /* no {message} */
	RENDER("{{literal}} {unset}|{message}", LF_TEXT, m, "{literal} |MSG");
	RENDER("{ not a field } {a b} {message}", LF_TEXT, m, "{ not a field } {a b} MSG");
	RENDER("{", LF_TEXT, m, "{MSG");
	cmap_unref(m);

	/* a value can never start a line of its own */
	m = with(NULL, "request_id", "x\n2024-01-01 FAKE root login\r\x1b[2J");
	RENDER("[{request_id}] {message}", LF_TEXT, m,
	       "[x\\n2024-01-01 FAKE root login\\r\\x1b[2J] MSG");
	RENDER("[{context}] {message}", LF_TEXT, m,
	       "[request_id=\"x\\n2024-01-01 FAKE root login\\r\\u001b[2J\"] MSG");
	cmap_unref(m);

	struct lt_tpl t;
	CHECK(lt_compile(&t, "{message}{message}") < 0);
	CHECK(lt_compile(&t, NULL) < 0);
	CHECK(lt_compile(&t, "{time}") == 0 && t.uses == LT_USES_TIME);
	CHECK(lt_compile(&t, "{caller}{pid}") == 0 && t.uses == (LT_USES_CALLER | LT_USES_PID));
	char big[2048];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(lt_compile(&t, big) < 0);
}

static void test_styles(void)
{
	struct cmap *m = with(with(NULL, "request_id", "a b"), "user", "j\"o");
	m = with(m, "level", "shadowed");
	RENDER("ignored", LF_LOGFMT, m,
	       "time=2024-02-29T12:34:56.789Z level=info service=api request_id=\"a b\" "
	       "ctx_level=shadowed user=\"j\\\"o\" msg=\"MSG\"");
	RENDER("ignored", LF_JSON, m,
	       "{\"time\":\"2024-02-29T12:34:56.789Z\",\"level\":\"info\",\"service\":\"api\","
	       "\"request_id\":\"a b\",\"ctx_level\":\"shadowed\",\"user\":\"j\\\"o\","
	       "\"message\":\"MSG\"}");
	cmap_unref(m);
	RENDER("x", LF_JSON, NULL,
	       "{\"time\":\"2024-02-29T12:34:56.789Z\",\"level\":\"info\",\"service\":\"api\","
	       "\"message\":\"MSG\"}");
}

/* OpenTelemetry: one OTLP/JSON LogRecord, the body last. */
#define OTEL_HEAD "{\"timeUnixNano\":\"1709210096789000123\",\"severityNumber\":9," \
		  "\"severityText\":\"info\""
#define OTEL_RES ",\"resource\":{\"attributes\":[{\"key\":\"service.name\"," \
		 "\"value\":{\"stringValue\":\"api\"}}]}"
#define OTEL_ATTR(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define OTEL_BODY "],\"body\":{\"stringValue\":\"MSG\"}}"

static void otel(const struct cmap *ctx, const struct cmap *base, int level, const char *want,
		 int line)
{
	struct lt_tpl t;
	struct lt_fields f = fields(ctx);
	char out[1024], pre[1024], suf[64];
	f.base = base;
	f.ns = 123;
	f.level = level;
	lt_compile(&t, "ignored {message}");
	size_t p = lt_prefix(&t, LF_OTEL, &f, pre, sizeof pre);
	size_t s = lt_suffix(&t, LF_OTEL, &f, suf, sizeof suf);
	int n = snprintf(out, sizeof out, "%.*sMSG%.*s", (int)p, pre, (int)s, suf);
	same(out, (size_t)n, want, line);
	CHECK(lt_has_suffix(&t, LF_OTEL));
	CHECK(lt_uses(&t, LF_OTEL) == LT_USES_TIME);
}

static void test_otel(void)
{
	struct cmap *m = with(with(NULL, "user", "j\"o\n"), "request_id", "r1");
	otel(m, NULL, 6, OTEL_HEAD OTEL_RES ",\"attributes\":[" OTEL_ATTR("request_id", "r1") ","
	     OTEL_ATTR("user", "j\\\"o\\n") OTEL_BODY, __LINE__);
	otel(NULL, NULL, 6, OTEL_HEAD OTEL_RES ",\"attributes\":[" OTEL_BODY, __LINE__);

	/* valid W3C ids are the record's own fields (lower case), not attributes */
	struct cmap *tr = with(with(NULL, "user", "j\"o\n"), "request_id", "r1");
	tr = with(tr, "trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736");
	tr = with(tr, "span_id", "00f067aa0ba902b7");
	tr = with(tr, "trace_flags", "01");
	otel(tr, NULL, 6, OTEL_HEAD ",\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
	     "\"spanId\":\"00f067aa0ba902b7\",\"flags\":1" OTEL_RES ",\"attributes\":["
	     OTEL_ATTR("request_id", "r1") "," OTEL_ATTR("user", "j\\\"o\\n") OTEL_BODY, __LINE__);
	cmap_unref(tr);
	/* an all-zero, short or non-hex id stays an attribute, never a wrong id */
	struct cmap *bad = with(with(NULL, "trace_id", "00000000000000000000000000000000"),
				"span_id", "xyz");
	bad = with(bad, "trace_flags", "1");
	otel(bad, NULL, 6, OTEL_HEAD OTEL_RES ",\"attributes\":["
	     OTEL_ATTR("span_id", "xyz") "," OTEL_ATTR("trace_flags", "1") ","
	     OTEL_ATTR("trace_id", "00000000000000000000000000000000") OTEL_BODY, __LINE__);
	cmap_unref(bad);

	/* the process-wide layer under the thread's entries */
	struct cmap *g = with(with(NULL, "incident", "INC-42"), "request_id", "global");
	otel(NULL, g, 6, OTEL_HEAD OTEL_RES ",\"attributes\":[" OTEL_ATTR("request_id", "global")
	     "," OTEL_ATTR("incident", "INC-42") OTEL_BODY, __LINE__);
	cmap_unref(g);
	cmap_unref(m);

	/* the data model's syslog mapping (Appendix B) */
	static const int want[8] = { 21, 19, 18, 17, 13, 10, 9, 5 };
	for (int l = 0; l < 8; l++)
		CHECK(lt_otel_severity(l) == want[l]);
	otel(NULL, NULL, 3, "{\"timeUnixNano\":\"1709210096789000123\",\"severityNumber\":17,"
	     "\"severityText\":\"error\"" OTEL_RES ",\"attributes\":[" OTEL_BODY, __LINE__);

	/* a service name is escaped like any JSON string */
	struct lt_tpl t;
	struct lt_fields f = fields(NULL);
	char out[1024];
	f.service = "a\"\x01\xff";
	f.service_len = 4;
	lt_compile(&t, "");
	size_t n = lt_prefix(&t, LF_OTEL, &f, out, sizeof out);
	CHECK(n > 0 && HAS(out, n, "\"stringValue\":\"a\\\"\\u0001\\ufffd\"}"));
}

/* Whatever the capacity, the output fits, and json keeps its shape. */
static void test_limits(void)
{
	struct cmap *m = NULL;
	char val[600];
	memset(val, 'v', sizeof val - 1);
	val[sizeof val - 1] = '\0';
	m = with(m, "request_id", "id1");
	m = with(m, "big", val);
	m = with(m, "small", "s");
	struct lt_tpl t;
	struct lt_fields f = fields(m);
	lt_compile(&t, "[{context}] {message}");
	for (size_t cap = 0; cap < 800; cap += 7) {
		char *out = malloc(cap ? cap : 1);
		size_t n = lt_prefix(&t, LF_TEXT, &f, out, cap);
		CHECK(n <= cap);
		n = lt_prefix(&t, LF_JSON, &f, out, cap);
		CHECK(n <= cap);
		if (n) {
			/* starts the object, ends by opening the message string */
			CHECK(out[0] == '{');
			CHECK(n >= 12 && !memcmp(out + n - 12, ",\"message\":\"", 12));
		}
		n = lt_prefix(&t, LF_LOGFMT, &f, out, cap);
		CHECK(n <= cap);
		if (n)
			CHECK(n >= 6 && !memcmp(out + n - 6, " msg=\"", 6));
		n = lt_prefix(&t, LF_OTEL, &f, out, cap);
		CHECK(n <= cap);
		if (n) {
			/* closes the attributes, opens the body's string */
			static const char tail[] = "],\"body\":{\"stringValue\":\"";
			CHECK(out[0] == '{');
			CHECK(n >= sizeof tail - 1 &&
			      !memcmp(out + n - (sizeof tail - 1), tail, sizeof tail - 1));
			CHECK(!HAS(out, n, "[,") && !HAS(out, n, ",]"));
		}
		n = lt_sd(m, NULL, out, cap);
		CHECK(n <= cap);
		if (n)
			CHECK(out[0] == '[' && out[n - 1] == ']');
		free(out);
	}
	/* the big entry is left out whole, the others stay */
	char out[300];
	size_t n = lt_prefix(&t, LF_TEXT, &f, out, sizeof out);
	same(out, n, "[request_id=id1 small=s] ", __LINE__);
	cmap_unref(m);
}

/* The process-wide layer under the thread's context: its entries show
 * where the thread has none, the thread's win. */
static void test_base(void)
{
	struct cmap *g = with(with(NULL, "incident", "INC-42"), "request_id", "global-id");
	struct cmap *m = with(NULL, "request_id", "mine");
	struct lt_tpl t;
	struct lt_fields f = fields(m);
	char out[256];
	f.base = g;
	lt_compile(&t, "[{context}] <{incident}> {message}");
	size_t n = lt_prefix(&t, LF_TEXT, &f, out, sizeof out);
	same(out, n, "[request_id=mine incident=INC-42] <INC-42> ", __LINE__);
	n = lt_prefix(&t, LF_JSON, &f, out, sizeof out);
	same(out, n, "{\"time\":\"2024-02-29T12:34:56.789Z\",\"level\":\"info\",\"service\":\"api\","
	     "\"request_id\":\"mine\",\"incident\":\"INC-42\",\"message\":\"", __LINE__);
	n = lt_sd(m, g, out, sizeof out);
	same(out, n, "[ctx@32473 request_id=\"mine\" incident=\"INC-42\"]", __LINE__);
	f.ctx = NULL;
	n = lt_prefix(&t, LF_TEXT, &f, out, sizeof out);
	same(out, n, "[request_id=global-id incident=INC-42] <INC-42> ", __LINE__);
	cmap_unref(m);
	cmap_unref(g);
}

static void test_sd(void)
{
	char out[256];
	struct cmap *m = with(with(NULL, "request_id", "r\"1]"), "path", "/a\\b");
	m = with(m, "k23456789012345678901234567890123", "too long a name");
	size_t n = lt_sd(m, NULL, out, sizeof out);
	same(out, n, "[ctx@32473 request_id=\"r\\\"1\\]\" path=\"/a\\\\b\"]", __LINE__);
	CHECK(lt_sd(NULL, NULL, out, sizeof out) == 0);
	cmap_unref(m);
}

int main(void)
{
	test_text();
	test_styles();
	test_otel();
	test_limits();
	test_base();
	test_sd();
	UNIT_DONE("logtpl");
}
