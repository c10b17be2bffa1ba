/*
 * journal.h: journald's native protocol, and a context as journal fields
 * (pure: no I/O).
 *
 * A native entry is one datagram of fields, each either "NAME=value\n" or,
 * for a value holding a newline, "NAME\n", the value's length as 64-bit
 * little-endian, the value, "\n".  Field names are 1-64 of [A-Z0-9_], not
 * starting with a digit or "_" (journald sets those itself).
 */
#ifndef CTX_JOURNAL_H
#define CTX_JOURNAL_H

#include "logfmt.h"
#include "map.h"

#include <stddef.h>
#include <sys/uio.h>

#define JN_NAME_MAX 64

/* The journal field for context key KEY (KLEN bytes): upper-cased, every
 * byte outside [A-Z0-9_] as "_", and "CTX_" before a name that would start
 * with a digit or "_" or that names a field the program or journald sets
 * (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, ...).  Written NUL-ended to OUT;
 * its length, or 0 when no valid name results (too long). */
size_t jn_field_name(const char *key, size_t klen, char out[JN_NAME_MAX + 1]);

/* Append one field to B in the native protocol. */
void jn_put(struct lbuf *b, const char *name, size_t nlen, const char *val, size_t vlen);

/* Append one "NAME=value" (as sd_journal_sendv takes it) to B in the native
 * protocol; 0, or -1 when it has no "=" or an invalid name. */
int jn_put_assignment(struct lbuf *b, const char *field, size_t len);

/* The visible entries of CTX over BASE (BASE's only for keys CTX lacks),
 * request_id first, as "NAME=value" strings written one after the other into
 * BUF (CAP bytes) and described by up to MAX iovecs in IOV.  A field whose
 * name SKIP(name, SKIP_ARG) says the program already sends is left out (SKIP
 * may be NULL).  The number of iovecs filled; entries that do not fit are
 * left out whole. */
int jn_context(const struct cmap *ctx, const struct cmap *base, char *buf, size_t cap,
	       struct iovec *iov, int max, int (*skip)(const char *name, size_t nlen, void *arg),
	       void *skip_arg);

#endif
