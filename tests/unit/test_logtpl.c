/* Unit tests of logtpl.c: templates, styles, structured data. */
#include "logfmt.h"
#include "logtpl.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) EXPECT(cond)

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
	test_limits();
	test_base();
	test_sd();
	UNIT_DONE("logtpl");
}
