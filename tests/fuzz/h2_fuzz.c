/*
 * h2_fuzz.c: libFuzzer target for the HTTP/2 frame reader and the HPACK
 * decoder (shim/pure/h2frame.c, hpack.c): what a client or a server sends
 * is untrusted, and the shim reads it inside the program.
 *
 * Input: one options byte (bit 0: the bytes start with the client preface;
 * the rest seeds how the bytes are cut into feeds), then the bytes of one
 * direction of a connection.  Header blocks go to an HPACK decoder; the
 * SETTINGS it carries are applied to the same reader and decoder (in the
 * shim they shape the other direction: here they exercise the setters).
 * Checked: no crash, hang or sanitizer report; every cap holds; the events
 * and fields are the same whether the bytes come in one feed or in pieces.
 * The whole input is also decoded as one raw HPACK block.
 */
#include "h2frame.h"
#include "hpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct hpack_dec dec;
static uint8_t blk[HPACK_BLOCK_CAP];
static struct h2r rd;
static uint64_t digest;
static size_t block_bytes;

static void mix(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		digest = (digest ^ b[i]) * 0x100000001b3ull;
}

static void on_field(void *arg, const char *n, size_t nl, const char *v, size_t vl, int never)
{
	(void)arg;
	if (nl + vl > HPACK_FIELD_MAX)
		abort();
	block_bytes += nl + vl + HPACK_ENTRY_OVERHEAD;
	if (block_bytes > HPACK_BLOCK_CAP)
		abort();
	mix(n, nl);
	mix(v, vl);
	mix(&never, sizeof never);
}

static void check_table(void)
{
	if (dec.size > dec.limit || dec.limit > dec.max || dec.max > HPACK_TABLE_CAP ||
	    dec.count > HPACK_MAX_ENTRIES)
		abort();
}

static void on_event(void *arg, const struct h2_event *ev)
{
	(void)arg;
	int t = ev->type;
	mix(&t, sizeof t);
	mix(&ev->stream, sizeof ev->stream);
	switch (ev->type) {
	case H2_EV_HEADERS:
	case H2_EV_PUSH_PROMISE:
		if (ev->block_len > sizeof blk || ev->block != blk)
			abort();
		block_bytes = 0;
		int rc = hpack_decode(&dec, ev->block, ev->block_len, on_field, NULL);
		mix(&rc, sizeof rc);
		check_table();
		break;
	case H2_EV_DATA:
		if (ev->length > rd.max_frame)
			abort();
		mix(&ev->length, sizeof ev->length);
		break;
	case H2_EV_SETTINGS:
		if (ev->has_table_size) {
			int r2 = hpack_set_max(&dec, ev->table_size);
			mix(&r2, sizeof r2);
			check_table();
		}
		if (ev->has_max_frame && h2r_set_max_frame(&rd, ev->max_frame))
			abort();            /* the reader let an invalid value through */
		break;
	default:
		mix(&ev->error_code, sizeof ev->error_code);
		break;
	}
}

static uint64_t run(const uint8_t *data, size_t size, int preface, unsigned seed, int *rc)
{
	digest = 0xcbf29ce484222325ull;
	hpack_init(&dec, 4096);
	h2r_init(&rd, preface, blk, sizeof blk);
	size_t at = 0;
	*rc = H2_OK;
	while (at < size) {
		size_t k = size - at;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			k = (seed >> 16) % 64 + 1;
			if (k > size - at)
				k = size - at;
		}
		*rc = h2r_feed(&rd, data + at, k, on_event, NULL);
		at += k;
		if (*rc)
			break;
	}
	return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int preface = data[0] & 1, rc1, rc2;
	unsigned seed = data[0] | 0x100u;
	uint64_t whole = run(data + 1, size - 1, preface, 0, &rc1);
	uint64_t cut = run(data + 1, size - 1, preface, seed, &rc2);
	if (whole != cut || rc1 != rc2)
		abort();

	hpack_init(&dec, data[0] & 2 ? 256 : 4096);
	block_bytes = 0;
	(void)hpack_decode(&dec, data + 1, size - 1, on_field, NULL);
	check_table();
	return 0;
}
