/*
 * log_sink_journal.c: the journal sink (CTXSHIM_LOG=...,journal).  Each
 * message becomes one entry on journald's native socket: MESSAGE is the
 * program's text unchanged, PRIORITY, SYSLOG_FACILITY and SYSLOG_IDENTIFIER
 * as journald would set them, and one field per context entry
 * (REQUEST_ID=..., see pure/journal.c for the names), so that
 * `journalctl REQUEST_ID=...` lists a request's lines across services.
 *
 * Two ways in: syslog messages (log_syslog.c hands them over), and the lines
 * a process writes to a stderr connected to journald's stream socket (every
 * systemd service, systemd-cat), which this file turns into entries of
 * their own instead of stream text.  When journald does not take an entry,
 * the message goes where it would have gone without this sink.
 */
#include "log_sink.h"
#include "hooks.h"
#include "journal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_STDOUT "/run/systemd/journal/stdout"
#define ENTRY_BUF 8192
#define CTX_FIELDS 64


static void put_num(struct lbuf *b, const char *name, long v)
{
	char d[24];
	int i = sizeof d;
	unsigned long u = v < 0 ? 0 : (unsigned long)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	jn_put(b, name, strlen(name), d + i, sizeof d - (size_t)i);
}

/* One entry: MESSAGE and the given header fields, then the context.  0 when
 * journald took it. */
static int send_entry(const char *msg, size_t len, int pri, int facility, const char *ident,
		      long pid, struct log_deco *d)
{
	char stack[ENTRY_BUF], fields[4096];
	struct iovec iov[CTX_FIELDS];
	struct lbuf b;
	const struct lt_fields *f = log_deco_fields(d);
	int n = jn_context(f->ctx, f->base, fields, sizeof fields, iov, CTX_FIELDS, NULL, NULL);
	char *heap = NULL;
	for (int pass = 0; pass < 2; pass++) {
		lb_init(&b, heap ? heap : stack, heap ? b.len : sizeof stack);
		jn_put(&b, "MESSAGE", 7, msg, len);
		put_num(&b, "PRIORITY", pri);
		if (facility >= 0)
			put_num(&b, "SYSLOG_FACILITY", facility);
		jn_put(&b, "SYSLOG_IDENTIFIER", 17, ident, strlen(ident));
		if (pid > 0)
			put_num(&b, "SYSLOG_PID", pid);
		for (int i = 0; i < n; i++)
			jn_put_assignment(&b, iov[i].iov_base, iov[i].iov_len);
		if (lb_ok(&b))
			break;
		if (heap || !(heap = malloc(b.len)))
			return -1;
	}
	int rc = log_dgram_send(JOURNAL_SOCKET, b.p, b.len);
	free(heap);
	return rc;
}

static int journal_emit(const struct log_record *r)
{
	long pid = (r->option & LOG_PID) ? (long)getpid() : 0;
	if (send_entry(r->msg, r->len, LOG_PRI(r->pri), LOG_FAC(r->pri), r->ident, pid, r->deco) < 0)
		return -1;
	if (r->option & LOG_PERROR) {
		/* glibc's copy on stderr, as syslog(3) writes it */
		char line[1024];
		struct lbuf e;
		lb_init(&e, line, sizeof line - 1);
		lb_put(&e, r->ident, strlen(r->ident));
		lb_put(&e, ": ", 2);
		lb_put(&e, r->msg, r->len);
		size_t l = e.len < sizeof line - 1 ? e.len : sizeof line - 1;
		line[l++] = '\n';
		REAL(write)(STDERR_FILENO, line, l);
	}
	return 0;
}

/* 1 when FD is a stream connected to journald's stdout socket. */
static int is_journal_stream(int fd)
{
	struct sockaddr_un a;
	socklen_t al = sizeof a;
	int type;
	socklen_t tl = sizeof type;
	if (getpeername(fd, (struct sockaddr *)&a, &al) < 0 || a.sun_family != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
		return 0;
	size_t n = al > offsetof(struct sockaddr_un, sun_path) ?
		   al - offsetof(struct sockaddr_un, sun_path) : 0;
	return n >= sizeof JOURNAL_STDOUT - 1 &&
	       !memcmp(a.sun_path, JOURNAL_STDOUT, sizeof JOURNAL_STDOUT - 1);
}

static int journal_open(void)
{
	KEEP_ERRNO;
	if (is_journal_stream(STDERR_FILENO))
		fdtab_store(STDERR_FILENO, FD_LOG | FD_JOURNAL);
	RESTORE_ERRNO;
	return 0;
}

const struct log_sink log_sink_journal = {
	.name = "journal",
	.open = journal_open,
	.emit = journal_emit,
	.close = NULL,
};

/* ---- stderr lines ---------------------------------------------------------- */

/* A line begun but not ended by the program's last write: kept until its
 * newline, so that a line written in pieces is one entry.  One holder at a
 * time; a writer that finds it busy (another thread, a signal handler) sends
 * its pieces as they are. */
static char pending[2048];
static size_t npending;
static atomic_flag pending_busy;

static int out_fd = 2;   /* where a line journald refused goes */

static void line_out(const char *p, size_t n, struct log_deco *d)
{
	const char *ident = program_invocation_short_name ? program_invocation_short_name : "";
	if (send_entry(p, n, d->level, -1, ident, 0, d) < 0) {
		/* journald did not take it: the bytes go to the stream as written */
		REAL(write)(out_fd, p, n);
		REAL(write)(out_fd, "\n", 1);
	}
}

ssize_t log_journal_write(int fd, const struct iovec *in, int cnt, size_t total, int level,
			  void *caller)
{
	struct log_deco d;
	int held = !atomic_flag_test_and_set(&pending_busy);
	out_fd = fd;
	log_deco_begin(&d, level, caller, 0);
	for (int i = 0; i < cnt; i++) {
		const char *p = in[i].iov_base;
		size_t n = in[i].iov_len;
		while (n) {
			const char *nl = memchr(p, '\n', n);
			size_t k = nl ? (size_t)(nl - p) : n;
			if (!held) {
				line_out(p, k, &d);   /* each piece its own entry */
			} else {
				if (npending + k > sizeof pending && npending) {
					line_out(pending, npending, &d);
					npending = 0;
				}
				if (k > sizeof pending) {
					line_out(p, k, &d);
				} else {
					memcpy(pending + npending, p, k);
					npending += k;
					if (nl) {
						line_out(pending, npending, &d);
						npending = 0;
					}
				}
			}
			p += k + (nl != NULL);
			n -= k + (nl != NULL);
		}
	}
	log_deco_end(&d);
	if (held)
		atomic_flag_clear(&pending_busy);
	return (ssize_t)total;
}

/* A line the program began but never ended still becomes an entry. */
__attribute__((destructor)) static void flush_pending(void)
{
	if (atomic_flag_test_and_set(&pending_busy))
		return;
	if (npending) {
		struct log_deco d;
		log_deco_begin(&d, log_cfg.line_level, NULL, 0);
		line_out(pending, npending, &d);
		log_deco_end(&d);
		npending = 0;
	}
	atomic_flag_clear(&pending_busy);
}
