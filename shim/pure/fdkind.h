/*
 * fdkind.h: what is a log and what is data (pure part, fdkind.c).
 *
 * A process under the shim decorates its stdout/stderr only when the other
 * end is a log: a regular file, a terminal or other device, journald's
 * stream socket, or a pipe or socket that came from outside the tree of
 * processes under the shim (a shell's `| tee`, cron, bats, systemd).  A pipe
 * or socket made inside the tree is data its maker reads: command
 * substitution, popen, subprocess capture, a CGI script's connection,
 * FastCGI workers' stderr.  The first process under the shim records the
 * pipes and sockets it was started with; its descendants get the list in
 * CTXSHIM_LOG_PIPES ("dev:ino,dev:ino" in hex).  See README, "What is a log,
 * what is data".
 */
#ifndef CTX_FDKIND_H
#define CTX_FDKIND_H

#include <stddef.h>
#include <sys/types.h>

#define FK_VAR "CTXSHIM_LOG_PIPES"
#define FK_MAX 4               /* ids kept from the variable */
#define FK_TEXT 80             /* room for FK_MAX ids as text */

struct fk_id {
	unsigned long long dev, ino;
};

enum { FK_DATA = 0, FK_LOG = 1, FK_STREAM = 2 };

/* A file of type MODE (st_mode) is a log (FK_LOG), data (FK_DATA), or a
 * pipe or socket whose origin decides (FK_STREAM). */
int fk_kind(mode_t mode);

/* Parse S ("dev:ino,dev:ino", hex) into at most CAP ids; a malformed item
 * ends the list (what is left out counts as data).  Returns the count. */
int fk_parse(const char *s, struct fk_id *out, int cap);

/* "dev:ino,dev:ino" into BUF (CAP bytes with the NUL); ids that do not fit
 * are left out whole.  Returns the length. */
size_t fk_format(char *buf, size_t cap, const struct fk_id *ids, int n);

/* 1 when ID is among the N of LIST. */
int fk_has(const struct fk_id *list, int n, struct fk_id id);

/* 1 when the AF_UNIX path PATH (LEN bytes, perhaps NUL-padded) is
 * journald's stream socket. */
int fk_is_journald(const char *path, size_t len);

#endif
