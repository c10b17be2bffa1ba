/* test_h2frame.c: the HTTP/2 frame reader (shim/pure/h2frame.c): every
 * frame type, split at every byte boundary, padding, CONTINUATION, errors. */
#include "h2frame.h"
#include "hpack.h"
#include "unit.h"

#include <stdint.h>

static char log_[4096];
static size_t log_len;

static void on_event(void *arg, const struct h2_event *ev)
{
	(void)arg;
	char *o = log_ + log_len;
	size_t room = sizeof log_ - log_len;
	int n = 0;
	switch (ev->type) {
	case H2_EV_HEADERS:
		n = snprintf(o, room, "H%u%s[%.*s] ", ev->stream, ev->end_stream ? "e" : "",
			     (int)ev->block_len, (const char *)ev->block);
		break;
	case H2_EV_PUSH_PROMISE:
		n = snprintf(o, room, "PP%u>%u[%.*s] ", ev->stream, ev->promised,
			     (int)ev->block_len, (const char *)ev->block);
		break;
	case H2_EV_DATA:
		n = snprintf(o, room, "D%u:%u%s ", ev->stream, ev->length, ev->end_stream ? "e" : "");
		break;
	case H2_EV_RST:
		n = snprintf(o, room, "R%u:%u ", ev->stream, ev->error_code);
		break;
	case H2_EV_GOAWAY:
		n = snprintf(o, room, "G%u:%u ", ev->last_stream, ev->error_code);
		break;
	case H2_EV_SETTINGS:
		n = snprintf(o, room, "S%s", ev->ack ? "a" : "");
		if (ev->has_table_size)
			n += snprintf(o + n, room - (size_t)n, "t%u", ev->table_size);
		if (ev->has_max_frame)
			n += snprintf(o + n, room - (size_t)n, "f%u", ev->max_frame);
		n += snprintf(o + n, room - (size_t)n, " ");
		break;
	}
	log_len += (size_t)n;
}

static uint8_t wire[20000];
static const char zeros[16385];
static size_t wlen;

static void frame(uint32_t len, uint8_t type, uint8_t flags, uint32_t stream, const char *payload)
{
	wire[wlen++] = (uint8_t)(len >> 16), wire[wlen++] = (uint8_t)(len >> 8), wire[wlen++] = (uint8_t)len;
	wire[wlen++] = type, wire[wlen++] = flags;
	wire[wlen++] = (uint8_t)(stream >> 24), wire[wlen++] = (uint8_t)(stream >> 16);
	wire[wlen++] = (uint8_t)(stream >> 8), wire[wlen++] = (uint8_t)stream;
	memcpy(wire + wlen, payload, len);
	wlen += len;
}

static const char want[] =
	"St8192f32768 Sa H1e[abcdefg] H3[xyz] D3:5e D5:0 R5:8 PP3>2[pp] G5:0 ";

static void build(void)
{
	wlen = 0;
	memcpy(wire, H2_PREFACE, H2_PREFACE_LEN);
	wlen = H2_PREFACE_LEN;
	frame(18, H2_SETTINGS, 0, 0, "\0\1\0\0\x20\0" "\0\5\0\0\x80\0" "\0\2\0\0\0\0");
	frame(0, H2_SETTINGS, H2_F_ACK, 0, "");
	/* pad length 3, priority (5), "abc", padding */
	frame(12, H2_HEADERS, H2_F_PADDED | H2_F_PRIORITY | H2_F_END_STREAM, 1,
	      "\3\x80\0\0\3\x10" "abc" "\0\0\0");
	frame(4, H2_CONTINUATION, 0, 1, "defg");
	frame(0, H2_CONTINUATION, H2_F_END_HEADERS, 1, "");
	frame(4, H2_WINDOW_UPDATE, 0, 0, "\0\1\0\0");
	frame(8, H2_PING, 0, 0, "12345678");
	frame(5, H2_PRIORITY, 0, 3, "\0\0\0\1\x20");
	frame(5, 0xfa, 0xff, 0, "?????");
	frame(3, H2_HEADERS, H2_F_END_HEADERS, 3, "xyz");
	frame(8, H2_DATA, H2_F_PADDED | H2_F_END_STREAM, 3, "\2hello\0\0");
	frame(0, H2_DATA, 0, 5, "");
	frame(4, H2_RST_STREAM, 0, 5, "\0\0\0\x08");
	frame(8, H2_PUSH_PROMISE, H2_F_PADDED | H2_F_END_HEADERS, 3, "\1\0\0\0\2pp\0");
	frame(11, H2_GOAWAY, 0, 0, "\0\0\0\5\0\0\0\0bye");
}

static uint8_t blk[64];
static struct h2r r;

/* feed wire cut at the given points; returns the last result */
static int feed_cut(int preface, const size_t *cuts, int ncuts)
{
	h2r_init(&r, preface, blk, sizeof blk);
	log_len = 0;
	log_[0] = '\0';
	size_t at = 0;
	int rc = H2_OK;
	for (int i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : wlen;
		rc = h2r_feed(&r, wire + at, end - at, on_event, NULL);
		at = end;
	}
	return rc;
}

static void splits(void)
{
	build();
	EXPECT(feed_cut(1, NULL, 0) == H2_OK);
	EXPECT_STR(log_, want);
	int bad = 0;
	for (size_t i = 0; i <= wlen; i++)
		for (size_t j = i; j <= wlen; j++) {
			size_t cuts[2] = { i, j };
			if (feed_cut(1, cuts, 2) != H2_OK || strcmp(log_, want))
				bad++;
		}
	EXPECT(bad == 0);
	/* one byte at a time */
	h2r_init(&r, 1, blk, sizeof blk);
	log_len = 0;
	for (size_t i = 0; i < wlen; i++)
		EXPECT(h2r_feed(&r, wire + i, 1, on_event, NULL) == H2_OK);
	log_[log_len] = '\0';
	EXPECT_STR(log_, want);
	/* no preface expected: the frames alone */
	h2r_init(&r, 0, blk, sizeof blk);
	log_len = 0;
	EXPECT(h2r_feed(&r, wire + H2_PREFACE_LEN, wlen - H2_PREFACE_LEN, on_event, NULL) == H2_OK);
	EXPECT_STR(log_, want);
	/* a DATA event comes before its payload */
	h2r_init(&r, 0, blk, sizeof blk);
	wlen = 0;
	frame(8, H2_DATA, 0, 7, "payload!");
	log_len = 0;
	EXPECT(h2r_feed(&r, wire, 10, on_event, NULL) == H2_OK);
	EXPECT_STR(log_, "D7:8 ");
}

/* a fresh reader fed one frame sequence; returns the result */
static int one(const char *what)
{
	(void)what;
	h2r_init(&r, 0, blk, sizeof blk);
	log_len = 0;
	log_[0] = '\0';
	int rc = h2r_feed(&r, wire, wlen, on_event, NULL);
	/* sticky */
	if (rc && h2r_feed(&r, (const uint8_t *)"", 0, on_event, NULL) != rc)
		return 99;
	return rc;
}

static void errors(void)
{
	/* larger than the receiver's max frame size, until it advertises more */
	wlen = 0;
	frame(16385, 0xfa, 0, 0, zeros);
	EXPECT(one("big") == H2_E_FRAME_SIZE);
	h2r_init(&r, 0, blk, sizeof blk);
	EXPECT(h2r_set_max_frame(&r, 32768) == H2_OK);
	EXPECT(h2r_feed(&r, wire, wlen, on_event, NULL) == H2_OK);
	EXPECT(h2r_set_max_frame(&r, 16383) == H2_E_SETTINGS);
	EXPECT(h2r_set_max_frame(&r, 1u << 24) == H2_E_SETTINGS);

	/* padding */
	wlen = 0;
	frame(3, H2_DATA, H2_F_PADDED, 1, "\3ab");
	EXPECT(one("pad data") == H2_E_PADDING);
	wlen = 0;
	frame(3, H2_DATA, H2_F_PADDED, 1, "\2ab");
	EXPECT(one("pad data, all padding") == H2_OK);
	EXPECT_STR(log_, "D1:0 ");
	wlen = 0;
	frame(6, H2_HEADERS, H2_F_PADDED | H2_F_PRIORITY | H2_F_END_HEADERS, 1, "\1\0\0\0\0\0");
	EXPECT(one("pad headers") == H2_E_PADDING);
	wlen = 0;
	frame(0, H2_DATA, H2_F_PADDED, 1, "");
	EXPECT(one("no pad length") == H2_E_FRAME_SIZE);

	/* CONTINUATION */
	wlen = 0;
	frame(1, H2_HEADERS, 0, 1, "a");
	frame(1, H2_CONTINUATION, H2_F_END_HEADERS, 3, "b");
	EXPECT(one("other stream") == H2_E_CONTINUATION);
	wlen = 0;
	frame(1, H2_HEADERS, 0, 1, "a");
	frame(8, H2_PING, 0, 0, "12345678");
	EXPECT(one("interleaved") == H2_E_CONTINUATION);
	wlen = 0;
	frame(1, H2_HEADERS, 0, 1, "a");
	frame(1, H2_HEADERS, H2_F_END_HEADERS, 3, "a");
	EXPECT(one("two headers") == H2_E_CONTINUATION);
	wlen = 0;
	frame(1, H2_CONTINUATION, H2_F_END_HEADERS, 1, "b");
	EXPECT(one("alone") == H2_E_CONTINUATION);
	wlen = 0;
	frame(1, H2_HEADERS, 0, 1, "a");
	for (unsigned i = 0; i < H2_CONT_MAX; i++)
		frame(0, H2_CONTINUATION, 0, 1, "");
	EXPECT(one("many") == H2_OK);
	frame(0, H2_CONTINUATION, 0, 1, "");
	EXPECT(one("endless") == H2_E_BLOCK_CAP);
	wlen = 0;
	frame(40, H2_HEADERS, 0, 1, "0123456789012345678901234567890123456789");
	frame(30, H2_CONTINUATION, H2_F_END_HEADERS, 1, "012345678901234567890123456789");
	EXPECT(one("block cap") == H2_E_BLOCK_CAP);

	/* streams and sizes */
	wlen = 0;
	frame(1, H2_HEADERS, H2_F_END_HEADERS, 0, "a");
	EXPECT(one("headers on 0") == H2_E_STREAM);
	wlen = 0;
	frame(1, H2_DATA, 0, 0, "a");
	EXPECT(one("data on 0") == H2_E_STREAM);
	wlen = 0;
	frame(0, H2_SETTINGS, 0, 1, "");
	EXPECT(one("settings on 1") == H2_E_STREAM);
	wlen = 0;
	frame(5, H2_SETTINGS, 0, 0, "\0\1\0\0\0");
	EXPECT(one("settings 5") == H2_E_FRAME_SIZE);
	wlen = 0;
	frame(6, H2_SETTINGS, H2_F_ACK, 0, "\0\1\0\0\0\0");
	EXPECT(one("ack with payload") == H2_E_FRAME_SIZE);
	wlen = 0;
	frame(6, H2_SETTINGS, 0, 0, "\0\5\0\0\0\x64");
	EXPECT(one("max frame 100") == H2_E_SETTINGS);
	wlen = 0;
	frame(7, H2_PING, 0, 0, "1234567");
	EXPECT(one("ping 7") == H2_E_FRAME_SIZE);
	wlen = 0;
	frame(3, H2_RST_STREAM, 0, 1, "123");
	EXPECT(one("rst 3") == H2_E_FRAME_SIZE);
	wlen = 0;
	frame(7, H2_GOAWAY, 0, 0, "1234567");
	EXPECT(one("goaway 7") == H2_E_FRAME_SIZE);

	/* the preface */
	h2r_init(&r, 1, blk, sizeof blk);
	EXPECT(h2r_feed(&r, (const uint8_t *)"PRI * HTTP/2.0\r\n", 16, NULL, NULL) == H2_OK);
	EXPECT(h2r_feed(&r, (const uint8_t *)"\r\nSX", 4, NULL, NULL) == H2_E_PREFACE);
	h2r_init(&r, 1, blk, sizeof blk);
	EXPECT(h2r_feed(&r, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, NULL, NULL) == H2_E_PREFACE);
}

/* A real client: nghttp2-client's nghttp, 8 requests (the h2_fuzz seed,
 * recorded by tests/fuzz/h2_seeds.py serve), read and decoded. */
static struct hpack_dec dec;
static int reqs, ids, traces;
static char path[64];

static void on_field(void *arg, const char *n, size_t nl, const char *v, size_t vl, int never)
{
	(void)arg, (void)never;
	if (nl == 12 && !memcmp(n, "x-request-id", 12) && vl == 7 && !memcmp(v, "abc-123", 7))
		ids++;
	if (nl == 11 && !memcmp(n, "traceparent", 11) && vl == 55)
		traces++;
	if (nl == 5 && !memcmp(n, ":path", 5) && vl < sizeof path)
		memcpy(path, v, vl), path[vl] = '\0';
}

static void on_real(void *arg, const struct h2_event *ev)
{
	(void)arg;
	if (ev->type == H2_EV_HEADERS && ev->end_stream &&
	    hpack_decode(&dec, ev->block, ev->block_len, on_field, NULL) == HPACK_OK)
		reqs++;
}

static void real_client(void)
{
	static uint8_t buf[4096], big[HPACK_BLOCK_CAP];
	FILE *f = fopen("tests/fuzz/corpus/h2_fuzz/nghttp_client", "rb");
	EXPECT(f != NULL);
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	EXPECT(n > 100 && buf[0] == 1);
	hpack_init(&dec, 4096);
	h2r_init(&r, 1, big, sizeof big);
	EXPECT(h2r_feed(&r, buf + 1, n - 1, on_real, NULL) == H2_OK);
	EXPECT(reqs == 8 && ids == 8 && traces == 8);
	EXPECT_STR(path, "/other");
}

int main(void)
{
	real_client();
	splits();
	errors();
	UNIT_DONE("h2frame");
}
