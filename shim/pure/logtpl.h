/*
 * logtpl.h: the decoration of a log line, rendered from the context.
 *
 * A line is decorated as PREFIX message SUFFIX, where PREFIX and SUFFIX come
 * from the style: text (CTXSHIM_LOG_FORMAT, a template of {fields} around
 * {message}), logfmt (key=value pairs, then msg="...") or json (one object,
 * the message last).  The message itself is copied (text) or escaped as the
 * inside of a quoted string (logfmt, json) by the caller, piece by piece, so
 * that a line written in several pieces still gets one prefix and one suffix.
 *
 * Pure: rendering reads only its arguments, allocates nothing and never
 * writes past CAP.  A field that does not fit is left out whole.
 */
#ifndef CTX_LOGTPL_H
#define CTX_LOGTPL_H

#include "map.h"

#include <stddef.h>
#include <stdint.h>

enum lt_op {
	LT_LIT, LT_KEY, LT_SERVICE, LT_LEVEL, LT_TIME, LT_TIME_UTC, LT_PID, LT_TID,
	LT_CALLER, LT_CONTEXT, LT_MESSAGE,
};

/* What a template needs computed per line (the rest is free). */
enum { LT_USES_TIME = 1, LT_USES_PID = 2, LT_USES_TID = 4, LT_USES_CALLER = 8 };

#define LT_MAX_ITEMS 48
#define LT_MAX_TEXT 512

struct lt_item {
	uint8_t op;
	uint16_t off, len;    /* LT_LIT: the text; LT_KEY: the key's name */
};

struct lt_tpl {
	struct lt_item it[LT_MAX_ITEMS];
	unsigned n;           /* items */
	unsigned msg;         /* index of {message}, n when absent */
	unsigned uses;        /* LT_USES_* */
	char text[LT_MAX_TEXT];
};

/* Parse SRC: {name} is a field (message service level time time_utc pid
 * tid caller context, or any context key), {{ and }} are literal braces,
 * a brace not starting a valid {name} is literal.  Without {message} the
 * template is a prefix.  0, or -1 when SRC is too long or repeats
 * {message}. */
int lt_compile(struct lt_tpl *t, const char *src);

struct lt_fields {
	const struct cmap *ctx;   /* the thread's context (NULL: empty) */
	const struct cmap *base;  /* under it: entries shown for keys CTX lacks
				   * (the process-wide layer), or NULL */
	const char *service;
	size_t service_len;
	int level;                /* 0-7 */
	int64_t ms;               /* wall clock, ms since the epoch */
	int32_t ns;               /* and nanoseconds within that ms (0-999999) */
	int utc_off_min;          /* local time's offset east of UTC */
	long pid, tid;
	const char *caller;       /* NULL: unknown */
};

/* The prefix and suffix of a line in STYLE (LF_TEXT, LF_LOGFMT, LF_JSON,
 * LF_OTEL),
 * at most CAP bytes each; return their length. */
size_t lt_prefix(const struct lt_tpl *t, int style, const struct lt_fields *f,
		 char *out, size_t cap);
size_t lt_suffix(const struct lt_tpl *t, int style, const struct lt_fields *f,
		 char *out, size_t cap);
/* 1 when STYLE with T puts anything after the message. */
int lt_has_suffix(const struct lt_tpl *t, int style);
/* What STYLE and T need computed per line (LT_USES_*). */
unsigned lt_uses(const struct lt_tpl *t, int style);

/* RFC 5424 structured data for CTX over BASE: [ctx@32473 request_id="..."
 * ...], the request id first; keys over 32 bytes are left out.  0 when
 * empty. */
size_t lt_sd(const struct cmap *ctx, const struct cmap *base, char *out, size_t cap);

#define LT_SD_ID "ctx@32473"

/* OpenTelemetry's SeverityNumber for syslog LEVEL 0-7 (the logs data
 * model's Appendix B: emerg FATAL 21, alert ERROR3 19, crit ERROR2 18,
 * err ERROR 17, warning WARN 13, notice INFO2 10, info INFO 9, debug DEBUG 5). */
int lt_otel_severity(int level);

#endif
