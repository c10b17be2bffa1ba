/*
 * h2frame.c: incremental HTTP/2 framing (RFC 9113 4 and 6) for one
 * direction (h2frame.h).
 *
 * Each frame is read in four steps, any of which may be empty and any of
 * which may end with the input: the 9-byte header, the "lead" (the fields
 * before the content: pad length, priority, promised stream, or the whole
 * payload of a fixed-size frame the shim reads), the content (a header
 * block fragment, SETTINGS parameters, or bytes passed over), the padding.
 */
#include "h2frame.h"

#include <string.h>

enum { ST_PREFACE, ST_HEAD, ST_LEAD, ST_BODY, ST_PAD };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void emit_block(struct h2r *r, h2_event_cb cb, void *arg)
{
	struct h2_event ev = { 0 };
	ev.type = r->blk_type == H2_PUSH_PROMISE ? H2_EV_PUSH_PROMISE : H2_EV_HEADERS;
	ev.stream = r->blk_stream;
	ev.end_stream = r->blk_end_stream;
	ev.block = r->blk;
	ev.block_len = r->blk_len;
	ev.promised = r->blk_promised;
	r->in_block = 0;
	if (cb)
		cb(arg, &ev);
}

static void start_block(struct h2r *r)
{
	r->in_block = 1;
	r->blk_type = r->type;
	r->blk_stream = r->stream;
	r->blk_end_stream = r->type == H2_HEADERS && (r->flags & H2_F_END_STREAM);
	r->blk_promised = 0;
	r->blk_len = 0;
	r->conts = 0;
}

/* The 9 bytes are in: check the frame against the sequence and the sizes. */
static int begin_frame(struct h2r *r)
{
	r->len = (uint32_t)r->hdr[0] << 16 | (uint32_t)r->hdr[1] << 8 | r->hdr[2];
	r->type = r->hdr[3];
	r->flags = r->hdr[4];
	r->stream = be32(r->hdr + 5) & 0x7fffffff;
	r->off = r->lead = r->pad = 0;
	r->fixlen = 0;
	if (r->len > r->max_frame)
		return H2_E_FRAME_SIZE;
	/* 6.10: nothing may come between HEADERS and its last CONTINUATION */
	if (r->in_block != (r->type == H2_CONTINUATION) ||
	    (r->in_block && r->stream != r->blk_stream))
		return H2_E_CONTINUATION;
	int padded = (r->flags & H2_F_PADDED) != 0, on_stream = r->stream != 0;
	switch (r->type) {
	case H2_DATA:
		r->lead = padded;
		break;
	case H2_HEADERS:
		r->lead = padded + ((r->flags & H2_F_PRIORITY) ? 5 : 0);
		start_block(r);
		break;
	case H2_PUSH_PROMISE:
		r->lead = padded + 4;
		start_block(r);
		break;
	case H2_CONTINUATION:
		if (++r->conts > H2_CONT_MAX)
			return H2_E_BLOCK_CAP;
		break;
	case H2_PRIORITY:
		if (r->len != 5)
			return H2_E_FRAME_SIZE;
		break;
	case H2_RST_STREAM:
		if (r->len != 4)
			return H2_E_FRAME_SIZE;
		r->lead = 4;
		break;
	case H2_SETTINGS:
		if (r->len % 6 || ((r->flags & H2_F_ACK) && r->len))
			return H2_E_FRAME_SIZE;
		memset(&r->set, 0, sizeof r->set);
		r->set.type = H2_EV_SETTINGS;
		r->set.ack = r->flags & H2_F_ACK;
		on_stream = !on_stream;
		break;
	case H2_PING:
		if (r->len != 8)
			return H2_E_FRAME_SIZE;
		on_stream = !on_stream;
		break;
	case H2_GOAWAY:
		if (r->len < 8)
			return H2_E_FRAME_SIZE;
		r->lead = 8;
		on_stream = !on_stream;
		break;
	case H2_WINDOW_UPDATE:            /* on a stream or the connection */
		if (r->len != 4)
			return H2_E_FRAME_SIZE;
		on_stream = 1;
		break;
	default:                          /* 5.5: unknown types are ignored */
		on_stream = 1;
		break;
	}
	if (!on_stream)
		return H2_E_STREAM;
	if (r->lead > r->len)
		return H2_E_FRAME_SIZE;
	return H2_OK;
}

/* The lead is in: padding, and the events that need no more. */
static int lead_done(struct h2r *r, h2_event_cb cb, void *arg)
{
	int padded = (r->flags & H2_F_PADDED) &&
		     (r->type == H2_DATA || r->type == H2_HEADERS || r->type == H2_PUSH_PROMISE);
	if (padded) {
		r->pad = r->fix[0];
		if (r->lead + r->pad > r->len)    /* 6.1: padding >= what remains */
			return H2_E_PADDING;
	}
	struct h2_event ev = { 0 };
	ev.stream = r->stream;
	switch (r->type) {
	case H2_PUSH_PROMISE:
		r->blk_promised = be32(r->fix + padded) & 0x7fffffff;
		return H2_OK;
	case H2_DATA:
		ev.type = H2_EV_DATA;
		ev.length = r->len - r->lead - r->pad;
		ev.end_stream = r->flags & H2_F_END_STREAM;
		break;
	case H2_RST_STREAM:
		ev.type = H2_EV_RST;
		ev.error_code = be32(r->fix);
		break;
	case H2_GOAWAY:
		ev.type = H2_EV_GOAWAY;
		ev.last_stream = be32(r->fix) & 0x7fffffff;
		ev.error_code = be32(r->fix + 4);
		break;
	default:
		return H2_OK;
	}
	if (cb)
		cb(arg, &ev);
	return H2_OK;
}

static int body(struct h2r *r, const uint8_t *p, size_t k)
{
	switch (r->type) {
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (k > r->blk_cap - r->blk_len)
			return H2_E_BLOCK_CAP;
		memcpy(r->blk + r->blk_len, p, k);
		r->blk_len += k;
		break;
	case H2_SETTINGS:
		for (size_t i = 0; i < k; i++) {
			r->fix[r->fixlen++] = p[i];
			if (r->fixlen < 6)
				continue;
			r->fixlen = 0;
			uint16_t id = (uint16_t)(r->fix[0] << 8 | r->fix[1]);
			uint32_t v = be32(r->fix + 2);
			if (id == H2_S_HEADER_TABLE_SIZE) {
				r->set.has_table_size = 1;
				r->set.table_size = v;
			} else if (id == H2_S_MAX_FRAME_SIZE) {
				if (v < 16384 || v > 0xffffff)
					return H2_E_SETTINGS;
				r->set.has_max_frame = 1;
				r->set.max_frame = v;
			}
		}
		break;
	default:
		break;
	}
	return H2_OK;
}

static void frame_done(struct h2r *r, h2_event_cb cb, void *arg)
{
	if ((r->type == H2_HEADERS || r->type == H2_PUSH_PROMISE || r->type == H2_CONTINUATION) &&
	    (r->flags & H2_F_END_HEADERS))
		emit_block(r, cb, arg);
	else if (r->type == H2_SETTINGS && cb)
		cb(arg, &r->set);
}

void h2r_init(struct h2r *r, int preface, uint8_t *blk, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->state = preface ? ST_PREFACE : ST_HEAD;
	r->max_frame = H2_DEFAULT_MAX_FRAME;
	r->blk = blk;
	r->blk_cap = cap;
}

int h2r_set_max_frame(struct h2r *r, uint32_t v)
{
	if (v < 16384 || v > 0xffffff)
		return H2_E_SETTINGS;
	r->max_frame = v;
	return H2_OK;
}

static int step(struct h2r *r, const uint8_t **pp, size_t *np, h2_event_cb cb, void *arg)
{
	const uint8_t *p = *pp;
	size_t n = *np, k;
	int rc = H2_OK;
	for (;;) {
		switch (r->state) {
		case ST_PREFACE:
			if (!n)
				goto out;
			k = H2_PREFACE_LEN - r->pre_off;
			if (k > n)
				k = n;
			if (memcmp(p, &H2_PREFACE[r->pre_off], k)) {
				rc = H2_E_PREFACE;
				goto out;
			}
			r->pre_off = (uint8_t)(r->pre_off + k), p += k, n -= k;
			if (r->pre_off == H2_PREFACE_LEN)
				r->state = ST_HEAD;
			break;
		case ST_HEAD:
			if (!n)
				goto out;
			k = 9u - r->hlen;
			if (k > n)
				k = n;
			memcpy(r->hdr + r->hlen, p, k);
			r->hlen = (uint8_t)(r->hlen + k), p += k, n -= k;
			if (r->hlen < 9)
				goto out;
			r->hlen = 0;
			if ((rc = begin_frame(r)))
				goto out;
			r->state = ST_LEAD;
			break;
		case ST_LEAD:
			if (r->off < r->lead) {
				if (!n)
					goto out;
				r->fix[r->off++] = *p++;
				n--;
				break;
			}
			if ((rc = lead_done(r, cb, arg)))
				goto out;
			r->state = ST_BODY;
			break;
		case ST_BODY:
			if (r->off < r->len - r->pad) {
				if (!n)
					goto out;
				k = r->len - r->pad - r->off;
				if (k > n)
					k = n;
				if ((rc = body(r, p, k)))
					goto out;
				r->off += (uint32_t)k, p += k, n -= k;
				break;
			}
			r->state = ST_PAD;
			break;
		case ST_PAD:
			if (r->off < r->len) {
				if (!n)
					goto out;
				k = r->len - r->off;
				if (k > n)
					k = n;
				r->off += (uint32_t)k, p += k, n -= k;
				break;
			}
			frame_done(r, cb, arg);
			r->state = ST_HEAD;
			break;
		}
	}
out:
	*pp = p;
	*np = n;
	return rc;
}

int h2r_feed(struct h2r *r, const uint8_t *p, size_t n, h2_event_cb cb, void *arg)
{
	if (r->err)
		return r->err;
	int rc = step(r, &p, &n, cb, arg);
	if (rc)
		r->err = rc;
	return rc;
}
