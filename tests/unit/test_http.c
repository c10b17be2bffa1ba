/*
 * test_http.c: the HTTP/1.x stream parsers, fed whole and split.
 */
#include "http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define IDNAME "x-request-id"

/* What an rx run saw: one line per request, "METHOD PATH id|-|! tp|-". */
struct rx_log {
	char text[8192];
	size_t len;
	int last_ev;     /* the first HTTP_PASS, HTTP_TOO_BIG, HTTP_AMBIG, or HTTP_MORE */
};

static void rx_note(struct rx_log *l, const struct http_req_fields *f)
{
	l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len,
				   "%s %s%s %s %s\n", f->method, f->path, f->path_cut ? "..." : "",
				   f->id_ok ? f->id : f->id_seen ? "!" : "-",
				   f->tp_ok ? f->trace_id : "-");
}

/* Feed S in pieces of at most STEP bytes (0: whole). */
static void rx_run(const char *s, size_t n, size_t step, struct rx_log *l)
{
	struct http_rx p;
	http_rx_init(&p, IDNAME, strlen(IDNAME));
	l->len = 0;
	l->text[0] = '\0';
	l->last_ev = HTTP_MORE;
	size_t off = 0;
	while (off < n) {
		size_t piece = step && n - off > step ? step : n - off;
		/* A fresh copy of exactly the piece, so ASan sees any over-read. */
		char *buf = malloc(piece);
		memcpy(buf, s + off, piece);
		size_t used = 0;
		while (used < piece) {
			int ev;
			size_t k = http_rx_feed(&p, buf + used, piece - used, &ev);
			CHECK(k <= piece - used);
			used += k;
			if (ev == HTTP_REQ)
				rx_note(l, &p.f);
			else if (ev != HTTP_MORE && l->last_ev == HTTP_MORE)
				l->last_ev = ev;     /* the verdict; later feeds say PASS */
			if (k == 0 && ev != HTTP_REQ)
				break;
		}
		free(buf);
		off += piece;
	}
}

/* The same outcome for every way of splitting S. */
static void rx_expect(const char *s, const char *want, int want_ev)
{
	size_t n = strlen(s);
	struct rx_log l;
	for (size_t step = 0; step <= n && step < 80; step++) {
		rx_run(s, n, step, &l);
		if (strcmp(l.text, want) != 0 || l.last_ev != want_ev) {
			fprintf(stderr, "rx step %zu:\n got  [%s] ev %d\n want [%s] ev %d\n",
				step, l.text, l.last_ev, want, want_ev);
			failures++;
			return;
		}
	}
}

static void test_rx_basic(void)
{
	rx_expect("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Request-ID: abc\r\n\r\n",
		  "GET /a?b=c abc -\n", HTTP_MORE);
	/* Case-insensitive name, surrounding spaces trimmed. */
	rx_expect("POST /p HTTP/1.0\r\nx-REQUEST-id: \t a.b_c:d+e/f=g-h \t\r\n\r\n",
		  "POST /p a.b_c:d+e/f=g-h -\n", HTTP_MORE);
	/* No id header. */
	rx_expect("HEAD / HTTP/1.1\r\n\r\n", "HEAD / - -\n", HTTP_MORE);
	/* Leading empty lines are allowed. */
	rx_expect("\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET / - -\n", HTTP_MORE);
}

static void test_rx_pipelined_bodies(void)
{
	const char *s =
		"POST /one HTTP/1.1\r\nContent-Length: 11\r\nX-Request-ID: one\r\n\r\n"
		"GET / HTTP/1.1"  /* body bytes that look like a request */
		"PUT /two HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nX-Request-ID: two\r\n\r\n"
		"5;ext=1\r\nhello\r\n1A\r\nGET /x HTTP/1.1\r\n\r\nabcdefg\r\n0\r\nTrailer: t\r\n\r\n"
		"GET /three HTTP/1.1\r\nX-Request-ID: three\r\n\r\n"
		"GET /four HTTP/1.1\r\ncontent-length: 0\r\n\r\n";
	/* "GET / HTTP/1.1" is 14 bytes, not 11: fix the length to match. */
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", s);
	char *cl = strstr(buf, "11\r\n");
	memcpy(cl, "14", 2);
	rx_expect(buf, "POST /one one -\nPUT /two two -\nGET /three three -\nGET /four - -\n",
		  HTTP_MORE);
}

static void test_rx_hostile_ids(void)
{
	static const char *bad[] = {
		"%s%n%x", "a b", "caf\xc3\xa9", "\"quoted\"", "a;b", "<tag>",
		"a\tb",
	};
	char req[8192];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n", bad[i]);
		rx_expect(req, "GET / ! -\n", HTTP_MORE);
	}
	/* 200 characters are fine, 201 are not. */
	char id[300];
	memset(id, 'a', 200);
	id[200] = '\0';
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n", id);
	char want[400];
	snprintf(want, sizeof want, "GET / %s -\n", id);
	rx_expect(req, want, HTTP_MORE);
	id[200] = 'a';
	id[201] = '\0';
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n", id);
	rx_expect(req, "GET / ! -\n", HTTP_MORE);
	/* 5,000 characters. */
	char *big = malloc(6000);
	memset(big, 'b', 5000);
	big[5000] = '\0';
	char *r2 = malloc(7000);
	snprintf(r2, 7000, "GET / HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n", big);
	rx_expect(r2, "GET / ! -\n", HTTP_MORE);
	free(big);
	free(r2);
	/* Only the first header counts; a folded one is not trusted. */
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID: first\r\nX-Request-ID: second\r\n\r\n",
		  "GET / first -\n", HTTP_MORE);
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID: %n\r\nX-Request-ID: second\r\n\r\n",
		  "GET / ! -\n", HTTP_MORE);
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID: abc\r\n def\r\n\r\n", "", HTTP_AMBIG);
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID: abc\rX-Evil: 1\r\n\r\n", "", HTTP_AMBIG);
	/* An empty value. */
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID:\r\n\r\n", "GET / ! -\n", HTTP_MORE);
	/* A name with a space before the colon is not HTTP we follow. */
	rx_expect("GET / HTTP/1.1\r\nX-Request-ID : abc\r\n\r\n", "", HTTP_AMBIG);
}

static void test_rx_traceparent(void)
{
	rx_expect("GET / HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
		  "GET / - 4bf92f3577b34da6a3ce929d0e0e4736\n", HTTP_MORE);
	/* All-zero trace id, upper case, version ff, wrong length: ignored. */
	rx_expect("GET / HTTP/1.1\r\ntraceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n\r\n",
		  "GET / - -\n", HTTP_MORE);
	rx_expect("GET / HTTP/1.1\r\ntraceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\r\n\r\n",
		  "GET / - -\n", HTTP_MORE);
	rx_expect("GET / HTTP/1.1\r\ntraceparent: ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
		  "GET / - -\n", HTTP_MORE);
	rx_expect("GET / HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x\r\n\r\n",
		  "GET / - -\n", HTTP_MORE);
	/* A later version may append fields. */
	rx_expect("GET / HTTP/1.1\r\ntraceparent: 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x\r\n\r\n",
		  "GET / - 4bf92f3577b34da6a3ce929d0e0e4736\n", HTTP_MORE);
	char t[33], s[17], f[3];
	CHECK(http_traceparent_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", 55, t, s, f));
	CHECK(!strcmp(s, "00f067aa0ba902b7") && !strcmp(f, "09"));
	CHECK(!http_traceparent_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", 55, t, s, f));
}

static void test_rx_not_http(void)
{
	rx_expect("get foo\r\n", "", HTTP_PASS);            /* memcached */
	rx_expect("\x80\x01\x00\x00binary", "", HTTP_PASS);
	rx_expect("GET /\r\n", "", HTTP_PASS);             /* HTTP/0.9 */
	rx_expect("GET / HTTP/2.0\r\n\r\n", "", HTTP_PASS);
	rx_expect("GET  / HTTP/1.1\r\n\r\n", "", HTTP_PASS);
	rx_expect("GET /a\tb HTTP/1.1\r\n\r\n", "", HTTP_PASS);
	rx_expect("VERYVERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", "", HTTP_PASS);
	rx_expect("HTTP/1.1 200 OK\r\n\r\n", "", HTTP_PASS);
	/* After a request, garbage stops the parser but the request stands. */
	rx_expect("GET / HTTP/1.1\r\n\r\n\x16\x03\x01", "GET / - -\n", HTTP_PASS);
	/* CONNECT: a tunnel follows. */
	rx_expect("CONNECT h:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", "CONNECT h:443 - -\n", HTTP_PASS);
	/* Unknown transfer coding or conflicting lengths: cannot follow. */
	rx_expect("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		  "", HTTP_AMBIG);
	rx_expect("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		  "", HTTP_AMBIG);
	/* Broken chunked framing: the head was fine, its body is not. */
	rx_expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\n\r\n",
		  "POST / - -\n", HTTP_AMBIG);
}

/* Request smuggling: every head or body that two parsers could cut
 * differently is HTTP_AMBIG, and nothing after it is reported. */
static void test_rx_ambiguous(void)
{
	static const char *const head[] = {
		/* CL.TE / TE.CL */
		"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
		/* TE.TE: obfuscated or repeated Transfer-Encoding */
		"Transfer-Encoding : chunked\r\n",
		"Transfer-Encoding: xchunked\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: gzip, chunked\r\n",
		"Transfer-Encoding: chunked, identity\r\n",
		"Transfer-Encoding: chunked;q=1\r\n",
		"Transfer-Encoding: \"chunked\"\r\n",
		"Transfer-Encoding:\r\n",
		"Transfer-Encoding: identity\r\n",
		"Transfer-Encoding\t: chunked\r\n",
		"Transfer-Encoding:\r\n chunked\r\n",
		"X: y\r\n Transfer-Encoding: chunked\r\n",
		" Transfer-Encoding: chunked\r\n",
		"\tTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\n",
		"Transfer-Encoding: chunked\rX: y\r\n",
		"Transfer_Encoding: chunked\r\n:x\r\n",
		/* Content-Length: duplicates (even equal), signs, spaces, lists */
		"Content-Length: 5\r\nContent-Length: 5\r\n",
		"Content-Length: 5\r\nContent-Length: 6\r\n",
		"Content-Length: 5, 5\r\n",
		"Content-Length: +5\r\n",
		"Content-Length: -5\r\n",
		"Content-Length: 5 5\r\n",
		"Content-Length: 0x5\r\n",
		"Content-Length:\r\n",
		"Content-Length: 1234567890123456789\r\n",
		"Content-Length : 5\r\n",
		"Content-Length: 5\n",
		/* bare LF, bare CR, folding elsewhere in the head */
		"Host: x\n",
		"Host: x\r\n\tfolded\r\n",
		"Host: x\r\n folded\r\n",
		"Host: a\rb\r\n",
		"Host\x01: x\r\n",
	};
	char req[512];
	for (size_t i = 0; i < sizeof head / sizeof *head; i++) {
		snprintf(req, sizeof req,
			 "GET /before HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\n%s\r\n"
			 "5\r\nhello\r\n0\r\n\r\nGET /after HTTP/1.1\r\n\r\n", head[i]);
		rx_expect(req, "GET /before - -\n", HTTP_AMBIG);
	}
	/* The head's own line ends. */
	rx_expect("GET / HTTP/1.1\n\r\n", "", HTTP_AMBIG);
	rx_expect("GET / HTTP/1.1\rX\r\n\r\n", "", HTTP_AMBIG);
	rx_expect("GET / HTTP/1.1\r\n\n", "", HTTP_AMBIG);
	rx_expect("GET / HTTP/1.1\r\n\rX", "", HTTP_AMBIG);
	/* Transfer-Encoding in HTTP/1.0. */
	rx_expect("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "",
		  HTTP_AMBIG);
	/* Chunked bodies bent out of RFC 9112's shape. */
	static const char *const body[] = {
		"5\nhello\r\n0\r\n\r\n",         /* bare LF after the size */
		"5\r\nhello\n0\r\n\r\n",         /* ... after the data */
		"5\r\nhelloX\r\n0\r\n\r\n",     /* data longer than its size */
		"5 \r\nhello\r\n0\r\n\r\n",      /* whitespace without an extension */
		"5 x\r\nhello\r\n0\r\n\r\n",
		"5;a\nhello\r\n0\r\n\r\n",       /* bare LF ending an extension */
		"5;a\rb\r\nhello\r\n0\r\n\r\n",
		"+5\r\nhello\r\n0\r\n\r\n",
		" 5\r\nhello\r\n0\r\n\r\n",
		"0x5\r\nhello\r\n0\r\n\r\n",
		"1000000000000000\r\n",                /* 16 digits */
		"5\r\nhello\r\n0\r\n\n",           /* bare LF ending the trailers */
		"5\r\nhello\r\n0\r\nT: 1\n\r\n",
		"5\r\nhello\r\n0\r\n T: 1\r\n\r\n",
		"5\r\nhello\r\n0\r\nT: 1\rx\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof body / sizeof *body; i++) {
		snprintf(req, sizeof req,
			 "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s"
			 "GET /after HTTP/1.1\r\n\r\n", body[i]);
		rx_expect(req, "POST /c - -\n", HTTP_AMBIG);
	}
	/* What stays followed: exact chunked (any case, OWS around it, tabs
	 * included), extensions and trailers as RFC 9112 has them, one length,
	 * leading zeros. */
	rx_expect("POST /a HTTP/1.1\r\nTransfer-Encoding:\tCHUNKED \r\n\r\n"
		  "5 ;a=b\t;c\r\nhello\r\n0\r\nT: 1\r\n\r\n"
		  "POST /b HTTP/1.1\r\nContent-Length: 005\r\n\r\nhello"
		  "GET /c HTTP/1.1\r\n\r\n",
		  "POST /a - -\nPOST /b - -\nGET /c - -\n", HTTP_MORE);
}

static void test_rx_limits(void)
{
	/* A head over HTTP_HEAD_MAX is abandoned. */
	size_t n = HTTP_HEAD_MAX + 100;
	char *s = malloc(n + 64);
	strcpy(s, "GET / HTTP/1.1\r\nX-Big: ");
	size_t k = strlen(s);
	memset(s + k, 'x', n - k);
	strcpy(s + n, "\r\n\r\n");
	struct rx_log l;
	rx_run(s, strlen(s), 0, &l);
	CHECK(l.len == 0 && l.last_ev == HTTP_TOO_BIG);
	rx_run(s, strlen(s), 1000, &l);
	CHECK(l.len == 0 && l.last_ev == HTTP_TOO_BIG);
	/* Just under the limit is fine. */
	size_t total = HTTP_HEAD_MAX;
	strcpy(s, "GET / HTTP/1.1\r\nX-Big: ");
	memset(s + k, 'x', total - k - 4);
	strcpy(s + total - 4, "\r\n\r\n");
	CHECK(strlen(s) == HTTP_HEAD_MAX);
	rx_run(s, strlen(s), 0, &l);
	CHECK(!strcmp(l.text, "GET / - -\n") && l.last_ev == HTTP_MORE);
	rx_run(s, strlen(s), 7, &l);
	CHECK(!strcmp(l.text, "GET / - -\n") && l.last_ev == HTTP_MORE);
	free(s);
	/* A long target is cut; raw high bytes are percent-encoded. */
	char req[4096];
	char path[2000];
	path[0] = '/';
	memset(path + 1, 'p', 1500);
	path[1501] = '\0';
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\n", path);
	for (size_t step = 0; step < 1100; step += 97) {
		rx_run(req, strlen(req), step, &l);
		CHECK(strstr(l.text, "...") != NULL);
		CHECK(strlen(l.text) == 4 + HTTP_PATH_MAX + 3 + 5);
	}
	rx_expect("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", "GET /caf%C3%A9 - -\n", HTTP_MORE);
}

/* ---- tx ----------------------------------------------------------------- */

/* Scan S split every STEP bytes; record "H<pos>:<status>:<has_id>" at each
 * head end and "D<pos>" at each message end, "P<pos>" on giving up.
 * NO_BODY applies to every response (a HEAD request). */
static void tx_run(const char *s, size_t n, size_t step, int requests, int no_body,
		   char *out, size_t cap)
{
	struct http_tx t;
	http_tx_init(&t, requests, IDNAME, strlen(IDNAME));
	size_t len = 0, off = 0;
	int passed = 0;
	out[0] = '\0';
	while (off < n && !passed) {
		size_t piece = step && n - off > step ? step : n - off;
		char *buf = malloc(piece);
		memcpy(buf, s + off, piece);
		size_t used = 0;
		while (used < piece) {
			int ev;
			size_t k = http_tx_scan(&t, buf + used, piece - used, &ev);
			used += k;
			if (ev == HTTP_HEAD_END) {
				len += (size_t)snprintf(out + len, cap - len, "H%zu:%u:%u%u ",
							off + used, t.status, t.has_id, t.has_tp);
				t.no_body = (uint8_t)no_body;
			} else if (ev == HTTP_DONE) {
				len += (size_t)snprintf(out + len, cap - len, "D%zu ", off + used);
			} else if (ev == HTTP_PASS) {
				len += (size_t)snprintf(out + len, cap - len, "P ");
				passed = 1;
				break;
			}
		}
		free(buf);
		off += piece;
	}
}

static void tx_expect(const char *s, int requests, int no_body, const char *want)
{
	size_t n = strlen(s);
	char got[4096];
	for (size_t step = 0; step <= n && step < 80; step++) {
		tx_run(s, n, step, requests, no_body, got, sizeof got);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "tx step %zu:\n got  [%s]\n want [%s]\n", step, got, want);
			failures++;
			return;
		}
	}
}

static void test_tx_responses(void)
{
	/* The head end is in front of the blank line (offset 38). */
	tx_expect("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 0, "H36:200:00 D43 ");
	tx_expect("HTTP/1.1 200 OK\r\nX-Request-Id: x\r\nContent-Length: 0\r\n\r\n"
		  "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		  "HTTP/1.0 204\r\n\r\n",
		  0, 0, "H53:200:10 D55 H107:404:00 D122 H136:204:00 D138 ");
	/* Interim 100, then the final response. */
	tx_expect("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		  0, 0, "H23:100:00 D25 H61:200:00 D65 ");
	/* A response to HEAD has no body, whatever Content-Length says. */
	tx_expect("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 1 - 1, 1,
		  "H36:200:00 D38 H55:200:00 D57 ");
	/* Until close, 101 and garbage: nothing more is ours. */
	tx_expect("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 0, 0, "H17:200:00 D19 P ");
	tx_expect("HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", 0, 0,
		  "H44:101:00 D46 P ");
	tx_expect("GET / HTTP/1.1\r\n\r\n", 0, 0, "P ");
	tx_expect("HTTP/1.1 999 Nope\r\n\r\n", 0, 0, "P ");
	tx_expect("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", 0, 0, "P ");
	tx_expect("HTTP/1.1 200 OK\n\nmore", 0, 0, "H16:200:00 D17 P ");
	/* Framing a client could read two ways: both lengths, two lengths
	 * (even equal), a chunked body bent from RFC 9112. */
	tx_expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
		  "3\r\nabc\r\n0\r\n\r\n", 0, 0, "H64:200:00 D66 P ");
	tx_expect("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 0, 0,
		  "H55:200:00 D57 P ");
	tx_expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 0, 0,
		  "H45:200:00 P ");
}

static void test_tx_requests(void)
{
	tx_expect("GET / HTTP/1.1\r\nHost: h\r\n\r\n"
		  "POST /p HTTP/1.1\r\nX-Request-ID: m\r\ntraceparent: t\r\nContent-Length: 3\r\n\r\nabc"
		  "GET /x HTTP/1.1\r\n\r\n",
		  1, 0, "H25:0:00 D27 H97:0:11 D102 H119:0:00 D121 ");
	tx_expect("HTTP/1.1 200 OK\r\n\r\n", 1, 0, "P ");
	tx_expect("\x16\x03\x01\x02\x00", 1, 0, "P ");
}

static void test_tokens(void)
{
	CHECK(http_token_valid("X-Request-ID", 12));
	CHECK(!http_token_valid("X Request", 9));
	CHECK(!http_token_valid("", 0));
	CHECK(http_id_valid("abc", 3));
	CHECK(!http_id_valid("", 0));
	CHECK(!http_id_valid("a\0b", 3));
}

int main(void)
{
	test_rx_basic();
	test_rx_pipelined_bodies();
	test_rx_hostile_ids();
	test_rx_traceparent();
	test_rx_not_http();
	test_rx_ambiguous();
	test_rx_limits();
	test_tx_responses();
	test_tx_requests();
	test_tokens();
	if (failures) {
		fprintf(stderr, "test_http: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_http: ok\n");
	return 0;
}
