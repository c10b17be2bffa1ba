/*
 * init.c: start-up.  Reads the settings once, decodes the inherited BAGGAGE
 * into the main thread's context and resolves the real functions.
 *
 * Hooks may run before our constructor (from another library's constructor),
 * so every entry point calls ctx_init() when ctx_cfg.ready is still 0.
 */
#include "core.h"
#include "baggage.h"
#include "ctl.h"
#include "hooks.h"
#include "io.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ctx_config ctx_cfg;

void ctx_core_init(struct cmap *initial);

extern char **environ;

const char *ctx_getenv(const char *name)
{
	/* secure_getenv is NULL for everything in a setuid/setgid process. */
	return ctx_cfg.secure ? NULL : secure_getenv(name);
}

void ctx_warn(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int saved = errno;
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
	errno = saved;
}

static int truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "yes") ||
		     !strcasecmp(v, "true") || !strcasecmp(v, "on"));
}

static int parse_mode(const char *v)
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
static const char *find_self(void)
{
	static char path[PATH_MAX];
	Dl_info info;
	if (dladdr((void *)&ctx_init, &info) && info.dli_fname &&
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

static const char *const *find_carry(void)
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

struct decode_state {
	struct cmap *m;
	int full;
};

static int add_member(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct decode_state *st = arg;
	struct cmap *nm;
	if (cmap_with(st->m, k, kl, v, vl, 0, &nm) < 0) {
		st->full++;
		return 0;
	}
	cmap_unref(st->m);
	st->m = nm;
	return 0;
}

static struct cmap *initial_context(void)
{
	struct decode_state st = { NULL, 0 };
	const char *bag = ctx_getenv("BAGGAGE");
	int bad = bag_decode(bag, add_member, &st);
	if (bad || st.full)
		ctx_warn("BAGGAGE: skipped %d malformed and %d excess member(s)", bad, st.full);
	return st.m;
}

void ctx_init(void)
{
	static atomic_int state;
	static __thread int initializing CTX_TLS;
	int expected = 0;

	if (ctx_cfg.ready || initializing)
		return;
	if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
		while (atomic_load(&state) != 2)
			sched_yield();
		return;
	}
	initializing = 1;
	ctx_cfg.secure = getauxval(AT_SECURE) != 0;
	ctx_cfg.disabled = truthy(ctx_getenv("CTXSHIM_DISABLE"));
	if (!ctx_cfg.disabled) {
		ctx_cfg.mode = parse_mode(ctx_getenv("CTXSHIM_MODE"));
		ctx_cfg.self_path = find_self();
		ctx_cfg.carry = find_carry();
		ctx_core_init(initial_context());
	}
	hooks_resolve();
	if (!ctx_cfg.disabled) {
		log_init();
		net_init();
		ctl_init();
	}
	initializing = 0;
	ctx_cfg.ready = 1;
	atomic_store(&state, 2);
}

__attribute__((constructor)) static void ctx_ctor(void)
{
	ctx_init();
}
