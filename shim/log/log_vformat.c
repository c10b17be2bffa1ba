/*
 * log_vformat.c: a program's printf-style message, formatted as the real call
 * would format it, for the hooks that decorate formatted output (stdio,
 * err/warn/error, syslog).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);

static int format_into(char *buf, size_t cap, int flag, const char *fmt, va_list ap, int err)
{
	va_list aq;
	va_copy(aq, ap);
	errno = err;    /* %m is the caller's errno */
	int n = flag < 0 ? vsnprintf(buf, cap, fmt, aq) : __vsnprintf_chk(buf, cap, flag, cap, fmt, aq);
	va_end(aq);
	return n;
}

int log_vformat(char *buf, size_t cap, char **out, int flag, const char *fmt, va_list ap, int err)
{
	int n = format_into(buf, cap, flag, fmt, ap, err);
	*out = buf;
	if (n < 0 || (size_t)n < cap)
		return n;
	/* Longer than the stack buffer: once more, into the heap. */
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	n = format_into(big, (size_t)n + 1, flag, fmt, ap, err);
	*out = big;
	return n;
}
