/*
 * log_sink.h: sinks that take one message at a time (syslog's kind), as
 * opposed to the line engine's byte streams (stderr, stdout, file:, in
 * log_line.c).  A sink renders a record in its own format and delivers it,
 * usually as one datagram: RFC 5424 to /dev/log (log_sink_rfc5424.c) today;
 * journald's native protocol plugs in the same way.
 *
 * Contract: emit runs on the logging thread, inside the hook, with the
 * recursion guard set (log_enter); it must not call the shim's exported hooks
 * (REAL() only), must keep errno, and must be safe to call from many threads
 * at once.  It returns 0 when the message was delivered or deliberately
 * dropped, -1 when the sink cannot take it (no daemon there): the caller then
 * hands the message to the real function.
 */
#ifndef CTX_LOG_SINK_H
#define CTX_LOG_SINK_H

#include "log.h"

#include <stddef.h>

/* One message the program logged. */
struct log_record {
	int pri;                 /* facility | severity (openlog's facility when 0) */
	const char *msg;         /* the program's text, unchanged */
	size_t len;
	struct log_deco *deco;   /* the context and per-line fields */
	const char *ident;       /* openlog's ident, else the program's name */
	int option;              /* openlog's options (LOG_PID, LOG_PERROR) */
};

struct log_sink {
	const char *name;
	/* Prepare the sink (called once, at start-up, when it is chosen; may
	 * be NULL); -1 when it cannot work in this process. */
	int (*open)(void);
	int (*emit)(const struct log_record *r);
	/* Release what open and emit keep (at exit; may be NULL). */
	void (*close)(void);
};

extern const struct log_sink log_sink_rfc5424;
extern const struct log_sink log_sink_journal;

/* The journal sink's other way in: FD has FD_JOURNAL (stderr, or a copy of
 * it, is a stream to journald), and its lines go as entries of their own
 * (log_sink_journal.c).  The program's byte count. */
ssize_t log_journal_write(int fd, const struct iovec *in, int cnt, size_t total, int level,
			  void *caller);

/* Send one datagram of N bytes to the Unix socket PATH.  A stream socket
 * there (some syslog daemons) gets the bytes and a NUL ending them, as glibc
 * sends.  0 when sent, -1 (errno kept) when not. */
int log_dgram_send(const char *path, const char *p, size_t n);

#endif
