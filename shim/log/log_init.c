/*
 * log_init.c: the logging settings, read once at start-up (ctx_init calls
 * log_init last).  Nothing here runs on a hot path.
 *
 *   CTXSHIM_LOG                sinks: syslog,stderr,stdout,file:GLOB (default
 *                              syslog,stderr; "none" or empty: nothing)
 *   CTXSHIM_LOG_FORMAT         the text template (default LOG_DEFAULT_FORMAT)
 *   CTXSHIM_LOG_STYLE          text, logfmt or json
 *   CTXSHIM_LOG_LEVEL          drop syslog messages below this level
 *   CTXSHIM_LOG_DEFAULT_LEVEL  {level} of stderr, stdout and file lines
 *   CTXSHIM_LOG_SYSLOG         message (decorate the text) or rfc5424
 *   CTXSHIM_SERVICE            {service} (default: the program's name)
 */
#include "log.h"
#include "log_sink.h"
#include "hooks.h"

#include <errno.h>
#include <string.h>

struct log_config log_cfg;

static char glob_store[1024];
static char service_store[128];
static struct lt_tpl default_tpl;

/* Add one CTXSHIM_LOG item (S, LEN bytes). */
static void add_sink(const char *s, size_t len, size_t *used)
{
	static const struct { const char *name; int bit; } names[] = {
		{ "syslog", LOG_SINK_SYSLOG }, { "stderr", LOG_SINK_STDERR },
		{ "stdout", LOG_SINK_STDOUT }, { "journal", LOG_SINK_JOURNAL },
	};
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || (len == 4 && !memcmp(s, "none", 4)))
		return;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strlen(names[i].name) == len && !memcmp(s, names[i].name, len)) {
			log_cfg.sinks |= names[i].bit;
			return;
		}
	}
	if (len > 5 && !memcmp(s, "file:", 5)) {
		if (log_cfg.nglobs == LOG_MAX_GLOBS || *used + len - 4 > sizeof glob_store) {
			ctx_warn("CTXSHIM_LOG: too many file: patterns; ignoring %.*s", (int)len, s);
			return;
		}
		char *g = glob_store + *used;
		memcpy(g, s + 5, len - 5);
		g[len - 5] = '\0';
		*used += len - 4;
		log_cfg.globs[log_cfg.nglobs++] = g;
		log_cfg.sinks |= LOG_SINK_FILE;
		return;
	}
	ctx_warn("CTXSHIM_LOG: unknown sink '%.*s' (syslog, stderr, stdout, journal, file:GLOB)",
		 (int)(len > 64 ? 64 : len), s);
}

static void parse_sinks(const char *v)
{
	size_t used = 0;
	if (!v)
		v = "syslog,stderr";
	for (const char *p = v;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		add_sink(p, len, &used);
		if (!c)
			break;
		p = c + 1;
	}
}

static int parse_level(const char *name, const char *v, int dflt)
{
	if (!v || !*v)
		return dflt;
	int l = lf_level_parse(v);
	if (l < 0) {
		ctx_warn("%s=%.32s is not a syslog level (emerg .. debug, or 0-7)", name, v);
		return dflt;
	}
	return l;
}

static void parse_style(const char *v)
{
	log_cfg.style = LF_TEXT;
	if (!v || !*v || !strcmp(v, "text"))
		return;
	if (!strcmp(v, "logfmt"))
		log_cfg.style = LF_LOGFMT;
	else if (!strcmp(v, "json"))
		log_cfg.style = LF_JSON;
	else if (!strcmp(v, "otel"))
		log_cfg.style = LF_OTEL;
	else
		ctx_warn("CTXSHIM_LOG_STYLE=%.32s is not text, logfmt, json or otel; using text", v);
}

static void parse_format(const char *v)
{
	lt_compile(&default_tpl, LOG_DEFAULT_FORMAT);
	if (!v || !*v || lt_compile(&log_cfg.tpl, v) == 0)
		return;
	ctx_warn("CTXSHIM_LOG_FORMAT is too long (%d bytes, %d fields at most) "
		 "or repeats {message}; using the default", LT_MAX_TEXT, LT_MAX_ITEMS);
	log_cfg.tpl = default_tpl;
}

static void set_service(const char *v)
{
	if (!v || !*v)
		v = program_invocation_short_name;
	if (!v)
		v = "";
	size_t n = strlen(v);
	if (n >= sizeof service_store)
		n = sizeof service_store - 1;
	memcpy(service_store, v, n);
	service_store[n] = '\0';
	log_cfg.service = service_store;
	log_cfg.service_len = n;
}

void log_tz_init(void);

void log_init(void)
{
	KEEP_ERRNO;
	memset(&log_cfg, 0, sizeof log_cfg);
	parse_sinks(ctx_getenv("CTXSHIM_LOG"));
	parse_style(ctx_getenv("CTXSHIM_LOG_STYLE"));
	const char *fmt = ctx_getenv("CTXSHIM_LOG_FORMAT");
	parse_format(fmt && *fmt ? fmt : LOG_DEFAULT_FORMAT);
	log_cfg.syslog_max = parse_level("CTXSHIM_LOG_LEVEL", ctx_getenv("CTXSHIM_LOG_LEVEL"), 7);
	log_cfg.line_level = parse_level("CTXSHIM_LOG_DEFAULT_LEVEL",
					 ctx_getenv("CTXSHIM_LOG_DEFAULT_LEVEL"), 6);
	const char *sys = ctx_getenv("CTXSHIM_LOG_SYSLOG");
	if (sys && !strcmp(sys, "rfc5424"))
		log_cfg.rfc5424 = 1;
	else if (sys && *sys && strcmp(sys, "message"))
		ctx_warn("CTXSHIM_LOG_SYSLOG=%.32s is not message or rfc5424; using message", sys);
	set_service(ctx_getenv("CTXSHIM_SERVICE"));
	log_cfg.has_suffix = lt_has_suffix(&log_cfg.tpl, log_cfg.style);
	log_cfg.uses = lt_uses(&log_cfg.tpl, log_cfg.style);
	log_cfg.fast_lines = log_cfg.style == LF_TEXT && !log_cfg.has_suffix;
	if (log_cfg.uses & LT_USES_TIME)
		log_tz_init();
	log_slots_init();

	fdtab_on_forget(FD_LOG, log_fd_closed);
	/* stdout/stderr are decorated only once known to be logs, not data
	 * the parent reads (log_fdkind.c): judged at their first line. */
	log_fdkind_init();
	if (log_cfg.sinks & LOG_SINK_STDERR) {
		fdtab_default[2] = FD_LOGQ;
		fdtab_set(2, FD_LOGQ);
	}
	if (log_cfg.sinks & LOG_SINK_STDOUT) {
		fdtab_default[1] = FD_LOGQ;
		fdtab_set(1, FD_LOGQ);
	}
	if (log_cfg.sinks & LOG_SINK_JOURNAL)
		log_sink_journal.open();
	RESTORE_ERRNO;
}
