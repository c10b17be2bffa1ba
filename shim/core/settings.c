/*
 * settings.c: the process's settings (CTXSHIM_*), read once at start-up, and
 * the shim's own warnings.  Every layer reads ctx_cfg; only start-up
 * (init.c) fills it.
 */
#include "core.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

struct ctx_config ctx_cfg;

const char *ctx_getenv(const char *name)
{
	/* secure_getenv is NULL for everything in a setuid/setgid process. */
	return ctx_cfg.secure ? NULL : secure_getenv(name);
}

void ctx_warn(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	KEEP_ERRNO;
	int n = snprintf(line, sizeof line, "ctxshim: ");
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* The raw system call: this line must not be decorated or re-enter. */
	syscall(SYS_write, 2, line, (size_t)n);
	RESTORE_ERRNO;
}

int ctx_flag(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "yes") ||
		     !strcasecmp(v, "true") || !strcasecmp(v, "on"));
}

int ctx_parse_mode(const char *v)
{
	if (!v || !*v || !strcmp(v, "copy"))
		return CTX_COPY;
	if (!strcmp(v, "share"))
		return CTX_SHARE;
	if (!strcmp(v, "chain"))
		return CTX_CHAIN;
	ctx_warn("CTXSHIM_MODE=%.32s is not copy, share or chain; using copy", v);
	return CTX_COPY;
}

/* Where this library lives, so children can preload it too. */
const char *ctx_find_self(void)
{
	static char path[PATH_MAX];
	Dl_info info;
	if (dladdr((void *)&ctx_find_self, &info) && info.dli_fname &&
	    strlen(info.dli_fname) < sizeof path) {
		strcpy(path, info.dli_fname);
		return path;
	}
	return NULL;
}

/* The CTXSHIM_* settings, kept so a child started with a fresh environment
 * (env -i, execle) runs under the same settings.  Two slots stay free for
 * what the shim adds itself (ctx_carry_add). */
static const char *carry_list[35];
static size_t carry_n;

const char *const *ctx_find_carry(void)
{
	static char store[4096];
	size_t used = 0;
	for (char **e = environ; !ctx_cfg.secure && e && *e && carry_n < 32; e++) {
		size_t len = strlen(*e) + 1;
		if (strncmp(*e, "CTXSHIM_", 8) != 0 || used + len > sizeof store)
			continue;
		memcpy(store + used, *e, len);
		carry_list[carry_n++] = store + used;
		used += len;
	}
	carry_list[carry_n] = NULL;
	return carry_list;
}

/* Pass KV ("CTXSHIM_...=value", kept by the caller for the life of the
 * process) to every child too; only during ctx_init. */
void ctx_carry_add(const char *kv)
{
	if (carry_n + 1 < sizeof carry_list / sizeof carry_list[0]) {
		carry_list[carry_n++] = kv;
		carry_list[carry_n] = NULL;
	}
}
