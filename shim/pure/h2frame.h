/*
 * h2frame.h: an incremental HTTP/2 frame reader (RFC 9113) for one
 * direction of one connection.  Pure: no allocation, no globals; the state
 * is the caller's struct h2r, header blocks go to the caller's buffer.
 *
 * Feed it the bytes in the order they pass, split anywhere.  It reports
 * what the shim needs through one callback: a complete header block
 * (HEADERS or PUSH_PROMISE plus its CONTINUATIONs, padding and priority
 * removed, ready for hpack_decode), the start of each DATA frame, RST_STREAM,
 * GOAWAY, SETTINGS (the two values that shape parsing).  PING, PRIORITY,
 * WINDOW_UPDATE are checked for size and passed over; frame types it does
 * not know are skipped (RFC 9113 5.5).  DATA payloads are never copied.
 *
 * An error is sticky: the bytes may no longer be framed as the peer frames
 * them, so the caller stops following the connection.  The reader errs
 * where a server would end the connection (oversized frames, bad padding,
 * a broken CONTINUATION sequence, frames of the wrong size or stream) and
 * where the shim's caps are reached (H2_CONT_MAX CONTINUATION frames, a
 * header block larger than the caller's buffer).
 */
#ifndef CTXSHIM_H2FRAME_H
#define CTXSHIM_H2FRAME_H

#include <stddef.h>
#include <stdint.h>

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24u
#define H2_DEFAULT_MAX_FRAME 16384u
#define H2_CONT_MAX 64u               /* CONTINUATION frames per block */

enum h2_type {
	H2_DATA = 0, H2_HEADERS = 1, H2_PRIORITY = 2, H2_RST_STREAM = 3,
	H2_SETTINGS = 4, H2_PUSH_PROMISE = 5, H2_PING = 6, H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8, H2_CONTINUATION = 9,
};

enum h2_flag {
	H2_F_END_STREAM = 0x1, H2_F_ACK = 0x1, H2_F_END_HEADERS = 0x4,
	H2_F_PADDED = 0x8, H2_F_PRIORITY = 0x20,
};

enum h2_setting { H2_S_HEADER_TABLE_SIZE = 1, H2_S_MAX_FRAME_SIZE = 5 };

enum h2_err {
	H2_OK = 0,
	H2_E_PREFACE = -1,     /* not the client preface */
	H2_E_FRAME_SIZE = -2,  /* larger than the receiver's SETTINGS_MAX_FRAME_SIZE,
				  or a fixed-size frame of another size */
	H2_E_PADDING = -3,     /* padding as long as the payload or longer */
	H2_E_CONTINUATION = -4,/* a frame inside a header block, or a CONTINUATION
				  outside one or on another stream */
	H2_E_STREAM = -5,      /* a stream frame on stream 0, or the reverse */
	H2_E_BLOCK_CAP = -6,   /* the block outgrew the buffer, or H2_CONT_MAX */
	H2_E_SETTINGS = -7,    /* an invalid SETTINGS_MAX_FRAME_SIZE */
};

enum h2_ev_type { H2_EV_HEADERS, H2_EV_PUSH_PROMISE, H2_EV_DATA, H2_EV_RST,
		  H2_EV_GOAWAY, H2_EV_SETTINGS };

struct h2_event {
	enum h2_ev_type type;
	uint32_t stream;
	int end_stream;             /* HEADERS (the HEADERS frame's flag), DATA */
	const uint8_t *block;       /* HEADERS, PUSH_PROMISE: the whole block */
	size_t block_len;
	uint32_t promised;          /* PUSH_PROMISE: the promised stream */
	uint32_t length;            /* DATA: payload bytes, padding excluded */
	uint32_t error_code;        /* RST_STREAM, GOAWAY */
	uint32_t last_stream;       /* GOAWAY */
	int ack;                    /* SETTINGS */
	int has_table_size, has_max_frame;  /* SETTINGS: present in this frame */
	uint32_t table_size, max_frame;     /* SETTINGS: the last value given */
};

/* Events are reported when complete, except DATA, reported once its
 * length is known (before its payload), so a caller knows the stream
 * the peer is sending on. */
typedef void (*h2_event_cb)(void *arg, const struct h2_event *ev);

struct h2r {
	int err;
	uint8_t state, pre_off, hlen, fixlen;
	uint8_t hdr[9];
	uint8_t fix[8];            /* pad length, priority, promised id, fixed frames */
	uint8_t type, flags;
	uint32_t len, stream, off, lead, pad;
	uint32_t max_frame;        /* the receiver's SETTINGS_MAX_FRAME_SIZE */
	uint8_t *blk;              /* caller's buffer for header blocks */
	size_t blk_cap, blk_len;
	uint32_t blk_stream, blk_promised;
	uint8_t in_block, blk_type, blk_end_stream, conts;
	struct h2_event set;       /* SETTINGS being read */
};

/* preface: 1 for the client-to-server direction of a connection that
 * starts with the preface (h2c with prior knowledge, h2 after ALPN).
 * blk/cap: where header blocks are gathered (say 64 KiB, HPACK_BLOCK_CAP
 * counts decoded bytes, this one encoded bytes). */
void h2r_init(struct h2r *r, int preface, uint8_t *blk, size_t cap);

/* The receiver of this direction advertised SETTINGS_MAX_FRAME_SIZE v
 * (16384 to 2^24-1).  Returns H2_OK or H2_E_SETTINGS. */
int h2r_set_max_frame(struct h2r *r, uint32_t v);

/* Returns H2_OK or the (sticky) error. */
int h2r_feed(struct h2r *r, const uint8_t *p, size_t n, h2_event_cb cb, void *arg);

#endif
