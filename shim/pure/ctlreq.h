/*
 * ctlreq.h: the control protocol's requests (what ctxctl sends).
 *
 * A request is one line of printable ASCII, at most CTL_REQ_MAX bytes with
 * its newline; the answer is one JSON object and a newline, after which the
 * endpoint closes the connection.
 *
 *   info                   pid, program, uptime (for `ctxctl list`)
 *   threads [symbols]      every live thread with its context
 *   conns                  watched connections and their requests
 *   get                    the process-wide layer
 *   set K=V[,K=V]...       into the process-wide layer; members in W3C
 *                          Baggage syntax (values percent-encoded)
 *   unset K [K]...         out of the process-wide layer
 *
 * A set or unset with any malformed member or key changes nothing.
 * Pure: no globals, no allocation.
 */
#ifndef CTX_PURE_CTLREQ_H
#define CTX_PURE_CTLREQ_H

#include <stddef.h>

#define CTL_REQ_MAX 65536

enum ctl_verb { CTL_INFO = 1, CTL_THREADS, CTL_CONNS, CTL_GET, CTL_SET, CTL_UNSET };

struct ctl_req {
	int verb;
	int symbols;        /* threads: name the spawn frames */
	const char *arg;    /* set: the members; unset: the keys (NUL-ended) */
	int count;          /* set, unset: how many members or keys */
	const char *err;    /* why the line was refused */
};

/* Parse LINE (NUL-terminated, LEN bytes, no newline).  0, or -1 with
 * R->err set. */
int ctlreq_parse(const char *line, size_t len, struct ctl_req *r);

/* The next space-separated word at *P (advancing it); 0 when none is left. */
int ctlreq_word(const char **p, const char **w, size_t *wlen);

#endif
