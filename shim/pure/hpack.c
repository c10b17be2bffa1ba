/*
 * hpack.c: HPACK decoding (RFC 7541) for one direction of one connection,
 * mirroring the receiving peer's dynamic table (hpack.h).
 *
 * Every field is assembled in d->field (name, then value) before the
 * callback sees it, whatever its source (the block, the static table, the
 * ring, the Huffman decoder): one shape, and the ring may wrap freely.
 */
#include "hpack.h"

#include <string.h>

/* RFC 7541 Appendix B gives each symbol's code; the code is canonical
 * (codes of one length are consecutive in symbol order, each length starts
 * where the shorter ones end), so the lengths are the whole table.  Symbol
 * 256 is EOS.  hpack_init derives the codes; tests check them against the
 * appendix's hex codes and that the lengths fill the code space exactly. */
static const uint8_t huff_len[257] = {
	/*   0 */ 13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
	/*  16 */ 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	/*  32 */ 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
	/*  48 */ 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
	/*  64 */ 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	/*  80 */ 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
	/*  96 */ 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
	/* 112 */ 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
	/* 128 */ 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
	/* 144 */ 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
	/* 160 */ 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
	/* 176 */ 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
	/* 192 */ 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
	/* 208 */ 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
	/* 224 */ 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
	/* 240 */ 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
	/* 256 */ 30,
};

/* Appendix A. */
static const struct {
	const char *name, *value;
} static_table[HPACK_STATIC_COUNT] = {
	{ ":authority", "" }, { ":method", "GET" }, { ":method", "POST" },
	{ ":path", "/" }, { ":path", "/index.html" }, { ":scheme", "http" },
	{ ":scheme", "https" }, { ":status", "200" }, { ":status", "204" },
	{ ":status", "206" }, { ":status", "304" }, { ":status", "400" },
	{ ":status", "404" }, { ":status", "500" }, { "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" }, { "accept-language", "" },
	{ "accept-ranges", "" }, { "accept", "" },
	{ "access-control-allow-origin", "" }, { "age", "" }, { "allow", "" },
	{ "authorization", "" }, { "cache-control", "" },
	{ "content-disposition", "" }, { "content-encoding", "" },
	{ "content-language", "" }, { "content-length", "" },
	{ "content-location", "" }, { "content-range", "" },
	{ "content-type", "" }, { "cookie", "" }, { "date", "" }, { "etag", "" },
	{ "expect", "" }, { "expires", "" }, { "from", "" }, { "host", "" },
	{ "if-match", "" }, { "if-modified-since", "" }, { "if-none-match", "" },
	{ "if-range", "" }, { "if-unmodified-since", "" },
	{ "last-modified", "" }, { "link", "" }, { "location", "" },
	{ "max-forwards", "" }, { "proxy-authenticate", "" },
	{ "proxy-authorization", "" }, { "range", "" }, { "referer", "" },
	{ "refresh", "" }, { "retry-after", "" }, { "server", "" },
	{ "set-cookie", "" }, { "strict-transport-security", "" },
	{ "transfer-encoding", "" }, { "user-agent", "" }, { "vary", "" },
	{ "via", "" }, { "www-authenticate", "" },
};

static void huff_derive(struct hpack_dec *d)
{
	uint16_t next[31];
	uint32_t code = 0;
	unsigned n = 0;
	memset(d->hf_count, 0, sizeof d->hf_count);
	for (unsigned s = 0; s <= 256; s++)
		d->hf_count[huff_len[s]]++;
	for (unsigned len = 1; len <= 30; len++) {
		d->hf_first[len] = code;
		d->hf_base[len] = next[len] = (uint16_t)n;
		n += d->hf_count[len];
		code = (code + d->hf_count[len]) << 1;
	}
	for (unsigned s = 0; s <= 256; s++)       /* by symbol within each length */
		d->hf_sym[next[huff_len[s]]++] = (uint16_t)s;
}

uint32_t hpack_huff_code(const struct hpack_dec *d, unsigned sym, unsigned *bits)
{
	unsigned len = huff_len[sym];
	*bits = len;
	for (unsigned i = 0; i < d->hf_count[len]; i++)
		if (d->hf_sym[d->hf_base[len] + i] == sym)
			return d->hf_first[len] + i;
	return 0;
}

static void evict(struct hpack_dec *d, uint32_t limit)
{
	while (d->count && d->size > limit) {
		const struct hpack_entry *e = &d->ent[(d->first + d->count - 1) % HPACK_MAX_ENTRIES];
		d->size -= e->nlen + e->vlen + HPACK_ENTRY_OVERHEAD;
		d->count--;
	}
}

int hpack_init(struct hpack_dec *d, uint32_t table_size)
{
	d->err = 0;
	d->size = d->count = d->first = d->head = 0;
	huff_derive(d);
	if (table_size > HPACK_TABLE_CAP)
		return d->err = HPACK_E_CAP;
	d->max = d->limit = table_size;
	return HPACK_OK;
}

int hpack_set_max(struct hpack_dec *d, uint32_t table_size)
{
	if (d->err)
		return d->err;
	if (table_size > HPACK_TABLE_CAP)
		return d->err = HPACK_E_CAP;
	d->max = table_size;
	if (d->limit > table_size) {
		d->limit = table_size;
		evict(d, d->limit);
	}
	return HPACK_OK;
}

/* 5.1; *v < 2^32 or HPACK_E_INT. */
static int get_int(const uint8_t **p, const uint8_t *end, unsigned prefix, uint32_t *v)
{
	if (*p >= end)
		return HPACK_E_TRUNC;
	uint32_t mask = (1u << prefix) - 1;
	uint64_t x = **p & mask;
	(*p)++;
	if (x < mask) {
		*v = (uint32_t)x;
		return HPACK_OK;
	}
	for (unsigned shift = 0;; shift += 7) {
		if (*p >= end)
			return HPACK_E_TRUNC;
		if (shift > 28)             /* a sixth byte: more than 32 bits, or zero padding */
			return HPACK_E_INT;
		uint8_t b = *(*p)++;
		x += (uint64_t)(b & 0x7f) << shift;
		if (x > UINT32_MAX)
			return HPACK_E_INT;
		if (!(b & 0x80))
			break;
	}
	*v = (uint32_t)x;
	return HPACK_OK;
}

/* 5.2: decode n bytes of Huffman code into out (room bytes); returns the
 * decoded length or an error. */
static long huff_decode(const struct hpack_dec *d, const uint8_t *in, size_t n,
			char *out, size_t room)
{
	size_t o = 0;
	uint32_t code = 0;
	unsigned len = 0;
	for (size_t i = 0; i < n; i++) {
		for (int b = 7; b >= 0; b--) {
			code = code << 1 | ((in[i] >> b) & 1);
			len++;
			/* the first length with a symbol is 5 */
			if (len >= 5 && code - d->hf_first[len] < d->hf_count[len]) {
				unsigned sym = d->hf_sym[d->hf_base[len] + code - d->hf_first[len]];
				if (sym == 256)
					return HPACK_E_HUFFMAN;
				if (o == room)
					return HPACK_E_FIELD;
				out[o++] = (char)sym;
				code = 0;
				len = 0;
			} else if (len == 30) {
				return HPACK_E_HUFFMAN;   /* cannot happen: the code is complete */
			}
		}
	}
	/* padding: at most 7 bits, all ones (the start of EOS) */
	if (len > 7 || code != (1u << len) - 1)
		return HPACK_E_HUFFMAN;
	return (long)o;
}

/* A string literal (5.2) appended to d->field at *at. */
static int get_string(struct hpack_dec *d, const uint8_t **p, const uint8_t *end, size_t *at)
{
	if (*p >= end)
		return HPACK_E_TRUNC;
	int huff = **p & 0x80;
	uint32_t n;
	int rc = get_int(p, end, 7, &n);
	if (rc)
		return rc;
	if (n > (size_t)(end - *p))
		return HPACK_E_TRUNC;
	size_t room = HPACK_FIELD_MAX - *at;
	if (huff) {
		long got = huff_decode(d, *p, n, d->field + *at, room);
		if (got < 0)
			return (int)got;
		*at += (size_t)got;
	} else {
		if (n > room)
			return HPACK_E_FIELD;
		memcpy(d->field + *at, *p, n);
		*at += n;
	}
	*p += n;
	return HPACK_OK;
}

static void ring_copy_out(const struct hpack_dec *d, uint32_t off, char *dst, size_t n)
{
	size_t first = HPACK_TABLE_CAP - off;
	if (first > n)
		first = n;
	memcpy(dst, d->ring + off, first);
	memcpy(dst + first, d->ring, n - first);
}

/* Index idx (1-based, static then dynamic): name only, or name and value,
 * copied to d->field. */
static int get_indexed(struct hpack_dec *d, uint32_t idx, int with_value, size_t *nlen, size_t *vlen)
{
	if (idx == 0)
		return HPACK_E_INDEX;
	if (idx <= HPACK_STATIC_COUNT) {
		const char *n = static_table[idx - 1].name, *v = static_table[idx - 1].value;
		*nlen = strlen(n);
		memcpy(d->field, n, *nlen);
		*vlen = with_value ? strlen(v) : 0;
		memcpy(d->field + *nlen, v, *vlen);
		return HPACK_OK;
	}
	idx -= HPACK_STATIC_COUNT + 1;
	if (idx >= d->count)
		return HPACK_E_INDEX;
	const struct hpack_entry *e = &d->ent[(d->first + idx) % HPACK_MAX_ENTRIES];
	*nlen = e->nlen;
	*vlen = with_value ? e->vlen : 0;
	ring_copy_out(d, e->off, d->field, *nlen + *vlen);
	return HPACK_OK;
}

/* 4.4: add the field in d->field; one larger than the table empties it. */
static void insert(struct hpack_dec *d, size_t nlen, size_t vlen)
{
	uint32_t need = (uint32_t)(nlen + vlen) + HPACK_ENTRY_OVERHEAD;
	if (need > d->limit) {
		evict(d, 0);
		return;
	}
	evict(d, d->limit - need);
	/* bytes in the ring <= size - 32 * count < limit <= the ring's size,
	 * so the new bytes never overwrite a live entry */
	size_t n = nlen + vlen, first = HPACK_TABLE_CAP - d->head;
	if (first > n)
		first = n;
	memcpy(d->ring + d->head, d->field, first);
	memcpy(d->ring, d->field + first, n - first);
	d->first = (d->first + HPACK_MAX_ENTRIES - 1) % HPACK_MAX_ENTRIES;
	d->ent[d->first] = (struct hpack_entry){ d->head, (uint16_t)nlen, (uint16_t)vlen };
	d->head = (uint32_t)((d->head + n) % HPACK_TABLE_CAP);
	d->count++;
	d->size += need;
}

static int decode(struct hpack_dec *d, const uint8_t *p, const uint8_t *end,
		  hpack_field_cb cb, void *arg)
{
	int fields = 0, rc;
	size_t total = 0;
	while (p < end) {
		uint8_t b = *p;
		uint32_t idx;
		size_t nlen = 0, vlen = 0;
		int index = 0, never = 0;
		if (b & 0x80) {                         /* 6.1 indexed */
			if ((rc = get_int(&p, end, 7, &idx)) ||
			    (rc = get_indexed(d, idx, 1, &nlen, &vlen)))
				return rc;
		} else if ((b & 0xe0) == 0x20) {        /* 6.3 size update */
			if (fields)
				return HPACK_E_SIZE_UPDATE;
			if ((rc = get_int(&p, end, 5, &idx)))
				return rc;
			if (idx > d->max)
				return HPACK_E_SIZE_UPDATE;
			d->limit = idx;
			evict(d, idx);
			continue;
		} else {                                /* 6.2 literals */
			unsigned prefix = 4;
			if (b & 0x40) {
				index = 1;
				prefix = 6;
			} else if (b & 0x10) {
				never = 1;
			}
			if ((rc = get_int(&p, end, prefix, &idx)))
				return rc;
			if (idx) {
				if ((rc = get_indexed(d, idx, 0, &nlen, &vlen)))
					return rc;
			} else {
				if ((rc = get_string(d, &p, end, &nlen)))
					return rc;
			}
			size_t at = nlen;
			if ((rc = get_string(d, &p, end, &at)))
				return rc;
			vlen = at - nlen;
		}
		fields = 1;
		total += nlen + vlen + HPACK_ENTRY_OVERHEAD;
		if (total > HPACK_BLOCK_CAP)
			return HPACK_E_BOMB;
		if (cb)
			cb(arg, d->field, nlen, d->field + nlen, vlen, never);
		if (index)
			insert(d, nlen, vlen);
	}
	return HPACK_OK;
}

int hpack_decode(struct hpack_dec *d, const uint8_t *blk, size_t len,
		 hpack_field_cb cb, void *arg)
{
	if (d->err)
		return d->err;
	int rc = decode(d, blk, blk + len, cb, arg);
	if (rc)
		d->err = rc;
	return rc;
}

static size_t put_int7(uint8_t *out, size_t cap, size_t v)
{
	size_t o = 0;
	if (v < 127) {
		if (cap < 1)
			return 0;
		out[0] = (uint8_t)v;             /* H = 0 */
		return 1;
	}
	if (cap < 1)
		return 0;
	out[o++] = 127;
	v -= 127;
	while (v >= 128) {
		if (o == cap)
			return 0;
		out[o++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	if (o == cap)
		return 0;
	out[o++] = (uint8_t)v;
	return o;
}

size_t hpack_encode_literal(uint8_t *out, size_t cap, const char *name, size_t nlen,
			    const char *value, size_t vlen)
{
	size_t o = 0, k;
	if (cap < 1)
		return 0;
	out[o++] = 0x00;                        /* 0000 + index 0: new name */
	if (!(k = put_int7(out + o, cap - o, nlen)) || cap - o - k < nlen)
		return 0;
	o += k;
	memcpy(out + o, name, nlen);
	o += nlen;
	if (!(k = put_int7(out + o, cap - o, vlen)) || cap - o - k < vlen)
		return 0;
	o += k;
	memcpy(out + o, value, vlen);
	return o + vlen;
}
