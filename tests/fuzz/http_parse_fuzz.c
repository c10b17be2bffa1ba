/*
 * http_parse_fuzz.c: libFuzzer target for the HTTP/1.x stream parsers.
 *
 * The first input byte picks how the rest is split into pieces; each piece
 * is copied into a buffer of exactly its size, so AddressSanitizer catches
 * a read one byte past it.  The events seen must not depend on the split:
 * the same input fed whole must give the same log.
 */
#include "http_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDNAME "x-request-id"

struct log {
	uint64_t h;      /* a hash of everything seen */
	size_t events;
};

static void mix(struct log *l, uint64_t v)
{
	l->h = (l->h ^ v) * 0x100000001b3ull;
	l->events++;
}

static void mixs(struct log *l, const char *s)
{
	while (*s)
		mix(l, (unsigned char)*s++);
}

static void run(const uint8_t *data, size_t n, size_t step, int which, struct log *l)
{
	struct http_rx rx;
	struct http_tx tx;
	size_t pos = 0;
	if (which == 0)
		http_rx_init(&rx, IDNAME, strlen(IDNAME));
	else
		http_tx_init(&tx, which == 2, IDNAME, strlen(IDNAME));
	memset(l, 0, sizeof *l);
	for (size_t off = 0; off < n;) {
		size_t piece = step && n - off > step ? step : n - off;
		char *buf = malloc(piece);
		memcpy(buf, data + off, piece);
		size_t used = 0;
		while (used < piece) {
			int ev;
			size_t k;
			if (which == 0) {
				k = http_rx_feed(&rx, buf + used, piece - used, &ev);
			} else {
				k = http_tx_scan(&tx, buf + used, piece - used, &ev);
			}
			if (k > piece - used)
				abort();
			used += k;
			pos += k;
			/* The caller's choices at a head end, from the position. */
			if (which && ev == HTTP_HEAD_END) {
				tx.no_body = (uint8_t)(pos & 1);
				tx.tunnel = (uint8_t)((pos & 6) == 6);
			}
			if (ev == HTTP_REQ) {
				mix(l, pos);
				mixs(l, rx.f.method);
				mixs(l, rx.f.path);
				if (rx.f.id_ok) {
					if (!http_id_valid(rx.f.id, rx.f.id_len) ||
					    strlen(rx.f.id) != rx.f.id_len)
						abort();
					mixs(l, rx.f.id);
				}
				if (rx.f.tp_ok)
					mixs(l, rx.f.trace_id);
				if (strlen(rx.f.path) != rx.f.path_len || rx.f.path_len > HTTP_PATH_MAX)
					abort();
			} else if (ev == HTTP_HEAD_END) {
				mix(l, pos * 31 + tx.status + tx.has_id * 7 + tx.has_tp * 13);
			} else if (ev == HTTP_DONE) {
				mix(l, pos * 17 + (uint64_t)ev);
			} else if (ev != HTTP_MORE) {
				/* Giving up consumes the rest of the piece: where it is
				 * reported depends on the split, so only that it was. */
				mix(l, (uint64_t)ev);
				free(buf);
				return;
			}
			/* Only HTTP_HEAD_END may stop without consuming. */
			if (k == 0 && ev != HTTP_HEAD_END && ev != HTTP_REQ)
				abort();
		}
		free(buf);
		off += piece;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 17;
	data++;
	size--;
	for (int which = 0; which < 3; which++) {
		struct log whole, split;
		run(data, size, 0, which, &whole);
		run(data, size, step, which, &split);
		/* The stream's meaning does not depend on how it was cut. */
		if (whole.h != split.h || whole.events != split.events)
			abort();
	}
	return 0;
}
