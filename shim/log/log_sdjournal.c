/*
 * log_sdjournal.c: programs that log to journald themselves, through
 * libsystemd (sd_journal_send, sd_journal_print and their v- and
 * _with_location forms: <systemd/sd-journal.h> turns every call into the
 * latter).  With the journal sink on (CTXSHIM_LOG=...,journal), each entry
 * gets the context's fields (REQUEST_ID=..., as log_sink_journal.c names
 * them), unless the program sends a field of that name itself; everything
 * the program sends is passed on unchanged.  libsystemd is never linked:
 * its functions are found in it when the program has it (hooks.def).
 */
#define HOOKS_LIB_DEFINE /* this file defines the real_sd_journal_* pointers */
#include "log.h"
#include "hooks.h"
#include "journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define HOOKS_LIB_systemd ~, 1
#include "hooks_lib.h"

#define SD_REAL(name) REAL_LIB(name, hooks_libs_systemd)
#define CTX_FIELDS 64
#define MAX_PROGRAM_FIELDS 256    /* more than this: passed on untouched */
#define FIELD_BUF 2048

static int active(void)
{
	return ctx_should_act() && (log_cfg.sinks & LOG_SINK_JOURNAL) && log_has_context();
}

struct fields {
	const struct iovec *iov;
	int n;
};

/* 1 when the program's own fields include NAME. */
static int program_has(const char *name, size_t nl, void *arg)
{
	const struct fields *f = arg;
	for (int i = 0; i < f->n; i++) {
		const char *b = f->iov[i].iov_base;
		if (f->iov[i].iov_len > nl && b[nl] == '=' && !memcmp(b, name, nl))
			return 1;
	}
	return 0;
}

/* IOV (N fields), and the context's when ADD, to the real sendv (with the
 * location when FILE is not NULL).  Called with the recursion guard set. */
static int send_with_context(int add, const char *file, const char *line, const char *func,
			     const struct iovec *iov, int n)
{
	struct iovec all[MAX_PROGRAM_FIELDS + CTX_FIELDS];
	char buf[4096];
	struct log_deco d;
	struct fields mine = { iov, n };
	int k = 0;
	if (add && n >= 0 && n <= MAX_PROGRAM_FIELDS && (n == 0 || iov)) {
		log_deco_begin(&d, 6 /* info */, NULL, 1);
		const struct lt_fields *lf = log_deco_fields(&d);
		memcpy(all, iov, (size_t)n * sizeof *iov);
		k = jn_context(lf->ctx, lf->base, buf, sizeof buf, all + n, CTX_FIELDS, program_has,
			       &mine);
		iov = all;
		log_deco_end(&d);
	}
	if (file)
		return SD_REAL(sd_journal_sendv_with_location)(file, line, func, iov, n + k);
	return SD_REAL(sd_journal_sendv)(iov, n + k);
}

CTX_EXPORT int sd_journal_sendv(const struct iovec *iov, int n)
{
	if (!active())
		return SD_REAL(sd_journal_sendv)(iov, n);
	int was = log_enter();
	int r = send_with_context(1, NULL, NULL, NULL, iov, n);
	log_leave(was);
	return r;
}

CTX_EXPORT int sd_journal_sendv_with_location(const char *file, const char *line,
					      const char *func, const struct iovec *iov, int n)
{
	if (!active())
		return SD_REAL(sd_journal_sendv_with_location)(file, line, func, iov, n);
	int was = log_enter();
	int r = send_with_context(1, file ? file : "CODE_FILE=", line ? line : "CODE_LINE=", func,
				  iov, n);
	log_leave(was);
	return r;
}

/* MESSAGE and PRIORITY, as sd_journal_printv sends them. */
static int print_with_context(int priority, const char *file, const char *line,
			      const char *func, const char *fmt, va_list ap)
{
	char msg[FIELD_BUF], *text;
	KEEP_ERRNO;
	int n = log_vformat(msg + 8, sizeof msg - 8, &text, -1, fmt, ap, saved_errno_);
	if (n < 0)
		return -ENOMEM;
	char pri[16];
	struct iovec iov[2];
	if (text == msg + 8) {
		memcpy(msg, "MESSAGE=", 8);
		iov[0] = (struct iovec){ msg, (size_t)n + 8 };
	} else {
		/* longer than the stack buffer: MESSAGE= before the heap copy */
		char *m = malloc((size_t)n + 8);
		if (!m) {
			free(text);
			return -ENOMEM;
		}
		memcpy(m, "MESSAGE=", 8);
		memcpy(m + 8, text, (size_t)n);
		free(text);
		text = m;
		iov[0] = (struct iovec){ m, (size_t)n + 8 };
	}
	int pl = snprintf(pri, sizeof pri, "PRIORITY=%d", priority & 7);
	iov[1] = (struct iovec){ pri, (size_t)pl };
	int r = send_with_context(1, file, line, func, iov, 2);
	if (text != msg + 8)
		free(text);
	return r;
}

CTX_EXPORT int sd_journal_printv(int priority, const char *fmt, va_list ap)
{
	if (!active())
		return SD_REAL(sd_journal_printv)(priority, fmt, ap);
	int was = log_enter();
	int r = print_with_context(priority, NULL, NULL, NULL, fmt, ap);
	log_leave(was);
	return r;
}

CTX_EXPORT int sd_journal_printv_with_location(int priority, const char *file, const char *line,
					       const char *func, const char *fmt, va_list ap)
{
	if (!active())
		return SD_REAL(sd_journal_printv_with_location)(priority, file, line, func, fmt, ap);
	int was = log_enter();
	int r = print_with_context(priority, file ? file : "CODE_FILE=", line ? line : "CODE_LINE=",
				   func, fmt, ap);
	log_leave(was);
	return r;
}

CTX_EXPORT int sd_journal_print(int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = sd_journal_printv(priority, fmt, ap);
	va_end(ap);
	return r;
}

CTX_EXPORT int sd_journal_print_with_location(int priority, const char *file, const char *line,
					      const char *func, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = sd_journal_printv_with_location(priority, file, line, func, fmt, ap);
	va_end(ap);
	return r;
}

/* sd_journal_send's arguments: printf formats, each with its arguments, one
 * field each, ending with NULL.  Each is formatted with vsnprintf on AP
 * itself: on x86-64 glibc a va_list is a pointer to its state, so the
 * formatting consumes exactly the field's arguments and AP is left at the
 * next format (the only ABI this library is built for).  Fields go to
 * send_with_context. */
static int send_fields(int add, const char *file, const char *line, const char *func,
		       const char *fmt, va_list ap)
{
	struct iovec iov[MAX_PROGRAM_FIELDS];
	char *heap[MAX_PROGRAM_FIELDS];
	int n = 0, r = -ENOMEM;
	for (; fmt; fmt = va_arg(ap, const char *)) {
		if (n == MAX_PROGRAM_FIELDS) {
			r = -E2BIG;
			goto out;
		}
		char *s = NULL;
		int len = vasprintf(&s, fmt, ap);
		if (len < 0)
			goto out;
		heap[n] = s;
		iov[n++] = (struct iovec){ s, (size_t)len };
	}
	r = send_with_context(add, file, line, func, iov, n);
out:
	for (int i = 0; i < n; i++)
		free(heap[i]);
	return r;
}

CTX_EXPORT int sd_journal_send(const char *fmt, ...)
{
	/* No v-form to hand the list to: the fields are formatted here, as
	 * libsystemd formats them, and sent with sendv, context or not. */
	va_list ap;
	va_start(ap, fmt);
	int add = active();
	int was = log_enter();
	int r = send_fields(add, NULL, NULL, NULL, fmt, ap);
	log_leave(was);
	va_end(ap);
	return r;
}

CTX_EXPORT int sd_journal_send_with_location(const char *file, const char *line, const char *func,
					     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int add = active();
	int was = log_enter();
	int r = send_fields(add, file ? file : "CODE_FILE=", line ? line : "CODE_LINE=", func, fmt,
			    ap);
	log_leave(was);
	va_end(ap);
	return r;
}
