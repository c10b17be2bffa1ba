/*
 * hpack.h: an HPACK decoder (RFC 7541) that mirrors one peer's decoder, and
 * the one encoder helper echo needs.  Pure: no allocation, no globals; the
 * whole state lives in the caller's struct hpack_dec.
 *
 * Use: hpack_init(d, 4096) when the connection starts (the protocol's
 * initial table size), hpack_set_max() each time the *decoding* peer
 * advertises SETTINGS_HEADER_TABLE_SIZE (for the client's header blocks,
 * the server's SETTINGS), and hpack_decode() on each complete header block
 * (HEADERS or PUSH_PROMISE fragment plus its CONTINUATIONs, concatenated)
 * in the order the peer receives them.  Each field comes out through the
 * callback.  As in the peers (nghttp2's decoder does the same), a larger
 * setting only allows the encoder a size update up to it; the table grows
 * with that update, never by itself.  A new setting binds the decoding
 * peer once the encoding one acknowledged it: call hpack_set_max when the
 * SETTINGS ACK appears among the bytes being decoded, between the blocks
 * before and after it.
 *
 * Any error leaves the decoder broken for good (its dynamic table may no
 * longer be the peer's): every later call returns the same error, and the
 * caller stops following that connection.
 *
 * Limits (the shim's own; README "HTTP/2: the pure parts so far"):
 *   HPACK_TABLE_CAP  the largest dynamic table followed (64 KiB); a peer
 *                    that advertises more cannot be mirrored: HPACK_E_CAP.
 *   HPACK_FIELD_MAX  the longest field, name plus value (16 KiB; nginx
 *                    refuses fields over 8 KiB by default).
 *   HPACK_BLOCK_CAP  decoded bytes per block, counted as name + value + 32
 *                    per field like the RFC's sizes (64 KiB): an HPACK bomb,
 *                    a few bytes that index a large entry over and over,
 *                    stops there.
 * sizeof(struct hpack_dec) is about 100 KiB with these values.
 */
#ifndef CTXSHIM_HPACK_H
#define CTXSHIM_HPACK_H

#include <stddef.h>
#include <stdint.h>

#define HPACK_TABLE_CAP 65536u
#define HPACK_FIELD_MAX 16384u
#define HPACK_BLOCK_CAP 65536u
#define HPACK_ENTRY_OVERHEAD 32u                     /* RFC 7541 4.1 */
#define HPACK_MAX_ENTRIES (HPACK_TABLE_CAP / HPACK_ENTRY_OVERHEAD)
#define HPACK_STATIC_COUNT 61u

enum hpack_err {
	HPACK_OK = 0,
	HPACK_E_TRUNC = -1,       /* the block ends inside a representation */
	HPACK_E_INDEX = -2,       /* index 0, or past the end of both tables */
	HPACK_E_HUFFMAN = -3,     /* EOS in a string, padding > 7 bits or not all ones */
	HPACK_E_INT = -4,         /* integer overflow (more than 32 bits) */
	HPACK_E_SIZE_UPDATE = -5, /* table size update above the limit or after a field */
	HPACK_E_BOMB = -6,        /* the block decodes to more than HPACK_BLOCK_CAP */
	HPACK_E_FIELD = -7,       /* one field longer than HPACK_FIELD_MAX */
	HPACK_E_CAP = -8,         /* the peer's table may be larger than HPACK_TABLE_CAP */
};

/* One field, valid during the call only.  never_index: the sender asked
 * that the field never be indexed (6.2.3): a proxy must keep that. */
typedef void (*hpack_field_cb)(void *arg, const char *name, size_t nlen,
			       const char *value, size_t vlen, int never_index);

struct hpack_entry {
	uint32_t off;             /* name's first byte in ring; the value follows */
	uint16_t nlen, vlen;
};

struct hpack_dec {
	int err;                  /* sticky */
	uint32_t max;             /* the peer's SETTINGS_HEADER_TABLE_SIZE */
	uint32_t limit;           /* the table's maximum size, <= max */
	uint32_t size;            /* RFC size of the entries: name + value + 32 each */
	uint32_t count;           /* entries; the newest is ent[first] */
	uint32_t first;           /* ent[] is a ring too */
	uint32_t head;            /* where the next entry's bytes go in ring[] */
	/* canonical Huffman code, derived from the RFC's code lengths */
	uint32_t hf_first[31];    /* first code of each length */
	uint16_t hf_count[31], hf_base[31];
	uint16_t hf_sym[257];     /* symbols by (length, value) */
	struct hpack_entry ent[HPACK_MAX_ENTRIES];
	uint8_t ring[HPACK_TABLE_CAP];
	char field[HPACK_FIELD_MAX]; /* the field being decoded */
};

/* table_size: both the table's size and the most a size update may ask:
 * 4096 on a new connection (RFC 7541's examples use others).  Returns
 * HPACK_OK or HPACK_E_CAP. */
int hpack_init(struct hpack_dec *d, uint32_t table_size);

/* The peer advertised a new SETTINGS_HEADER_TABLE_SIZE.  A smaller one
 * shrinks the table at once (the encoder must follow with a size update at
 * most that large); a larger one only allows a later size update. */
int hpack_set_max(struct hpack_dec *d, uint32_t table_size);

/* Decode one complete header block.  Returns HPACK_OK or an error. */
int hpack_decode(struct hpack_dec *d, const uint8_t *blk, size_t len,
		 hpack_field_cb cb, void *arg);

/* Literal header field without indexing, new name, no Huffman (6.2.2):
 * what the shim adds to a block without touching the dynamic table the
 * peer mirrors.  name must be lower case (RFC 9113 8.2.1).  Writes at most
 * cap bytes; returns the length, or 0 when it does not fit. */
size_t hpack_encode_literal(uint8_t *out, size_t cap, const char *name, size_t nlen,
			    const char *value, size_t vlen);

/* For tests: the canonical code of symbol sym (0..256) and its length. */
uint32_t hpack_huff_code(const struct hpack_dec *d, unsigned sym, unsigned *bits);

#endif
