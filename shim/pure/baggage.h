/*
 * baggage.h: the W3C Baggage codec (https://www.w3.org/TR/baggage/), the
 * format of the BAGGAGE environment variable that carries a context from a
 * process to the programs it starts (OpenTelemetry's environment carrier).
 *
 *   BAGGAGE=request_id=abc,request_path=%2Fapi%2Fv1;prop=ignored
 *
 * Pure: plain functions over buffers, no allocation, no globals.
 */
#ifndef CTX_BAGGAGE_H
#define CTX_BAGGAGE_H

#include <stddef.h>

/* What W3C Baggage says every carrier must at least carry. */
#define BAG_MAX_MEMBERS 64
#define BAG_MAX_BYTES 8192

/* Called for each well-formed member; VAL is percent-decoded and
 * NUL-terminated.  Return non-zero to stop. */
typedef int (*bag_member_fn)(const char *key, size_t klen,
			     const char *val, size_t vlen, void *arg);

/* Decode S, calling FN for each valid member (key of [A-Za-z0-9_.-], value
 * of baggage octets and %XX escapes decoding to no NUL and at most
 * CMAP_MAX_VALUE bytes; ";properties" ignored, white space trimmed).  Returns
 * how many non-empty members were malformed and skipped. */
int bag_decode(const char *s, bag_member_fn fn, void *arg);

/* Encode one member "key=value" (value percent-encoded so that any byte
 * round-trips) into OUT.  Returns the length it needs; writes it only when it
 * fits in CAP (no NUL is written). */
size_t bag_encode_member(char *out, size_t cap, const char *key, size_t klen,
			 const char *val, size_t vlen);

/* An encoder filling a fixed buffer, member by member, within Baggage's
 * limits: a member that does not fit is dropped whole, never cut. */
struct bag_writer {
	char *buf;       /* output, NUL-terminated after each add */
	size_t cap;      /* size of buf, including the NUL */
	size_t len;
	int members;
	int dropped;
};

void bag_writer_init(struct bag_writer *w, char *buf, size_t cap);
/* 0 when added, -1 when dropped. */
int bag_writer_add(struct bag_writer *w, const char *key, size_t klen,
		   const char *val, size_t vlen);

#endif
