/*
 * log_deco.c: what a decoration is rendered from.  The calling thread's
 * context (read in place in copy mode: the thread's own immutable map, no
 * lock, no allocation), the per-line fields a template asks for, the local
 * time offset and the names of call sites for {caller}.
 *
 * The write(2) path may run in a signal handler, so it passes safe=0: then
 * nothing here takes a lock or allocates, except what the documented limits
 * say (share/chain modes take the context's lock; {caller} resolves a call
 * site seen for the first time).
 */
#include "log.h"
#include "hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && __has_include(<libunwind.h>)
#include <libunwind.h>
#define HAVE_UNWIND 1
#endif

static int any_entry(const struct cmap_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 1;
}

int log_has_context_boxed(void)
{
	/* in_core: this write interrupted the thread inside the core, perhaps
	 * holding a box lock; taking it again would deadlock.  Leave the line. */
	return ctx_self.box != NULL && !ctx_self.in_core && ctx_visit(any_entry, NULL) > 0;
}

/* ---- local time offset ----------------------------------------------------- */

/* localtime_r takes a lock and may read the zone file, so only safe callers
 * refresh the offset (every quarter hour, when offsets change); the write
 * path reads the last one. */
static _Atomic long tz_until;
static _Atomic int tz_off_min;

static void tz_refresh(time_t now)
{
	struct tm tm;
	if (localtime_r(&now, &tm))
		atomic_store(&tz_off_min, (int)(tm.tm_gmtoff / 60));
	atomic_store(&tz_until, (long)(now / 900 + 1) * 900);
}

void log_tz_init(void)
{
	tz_refresh(time(NULL));
}

static int tz_offset(time_t now, int safe)
{
	if (safe && now >= atomic_load_explicit(&tz_until, memory_order_relaxed))
		tz_refresh(now);
	return atomic_load_explicit(&tz_off_min, memory_order_relaxed);
}

/* ---- call sites ------------------------------------------------------------ */

#define SITES 256
#define SITE_NAME 88

struct site {
	_Atomic uintptr_t ra;
	_Atomic int ready;
	char name[SITE_NAME];
};
static struct site sites[SITES];

#ifdef HAVE_UNWIND
/* libunwind names static functions from the ELF symbol table.  It is never
 * linked (it exports _Unwind_* and would take over C++ unwinding): loaded
 * privately the first time dladdr finds no name. */
static struct {
	int (*getcontext)(unw_context_t *);
	int (*init_local)(unw_cursor_t *, unw_context_t *);
	int (*set_reg)(unw_cursor_t *, int, unw_word_t);
	int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
} uw;
static _Atomic int uw_state;   /* 0 not tried, 1 loaded, -1 unavailable */

static int uw_load(void)
{
	int s = atomic_load(&uw_state);
	if (s)
		return s > 0;
	void *h = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (h) {
		uw.getcontext = (int (*)(unw_context_t *))dlsym(h, "_Ux86_64_getcontext");
		uw.init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, "_ULx86_64_init_local");
		uw.set_reg = (int (*)(unw_cursor_t *, int, unw_word_t))dlsym(h, "_ULx86_64_set_reg");
		uw.get_proc_name = (int (*)(unw_cursor_t *, char *, size_t, unw_word_t *))
			dlsym(h, "_ULx86_64_get_proc_name");
	}
	s = h && uw.getcontext && uw.init_local && uw.set_reg && uw.get_proc_name ? 1 : -1;
	atomic_store(&uw_state, s);
	return s > 0;
}

static int uw_name(uintptr_t ip, char *out, size_t cap, uintptr_t *off)
{
	unw_context_t uc;
	unw_cursor_t cur;
	unw_word_t o = 0;
	if (!uw_load() || uw.getcontext(&uc) || uw.init_local(&cur, &uc) ||
	    uw.set_reg(&cur, UNW_REG_IP, (unw_word_t)ip) ||
	    uw.get_proc_name(&cur, out, cap, &o))
		return 0;
	*off = (uintptr_t)o;
	return out[0] != '\0';
}
#endif

static void resolve(uintptr_t ra, char *out, size_t cap, int safe)
{
	Dl_info di;
	char name[SITE_NAME];
	uintptr_t off;
	/* ra - 1: the call instruction, inside the caller even when the call
	 * is the last thing a function does */
	int have = dladdr((void *)(ra - 1), &di);
	if (have && di.dli_sname && di.dli_saddr) {
		snprintf(out, cap, "%s+0x%lx", di.dli_sname,
			 (unsigned long)(ra - (uintptr_t)di.dli_saddr));
		return;
	}
#ifdef HAVE_UNWIND
	if (safe && uw_name(ra - 1, name, sizeof name, &off)) {
		snprintf(out, cap, "%s+0x%lx", name, (unsigned long)off + 1);
		return;
	}
#else
	(void)safe;
	(void)name;
#endif
	if (have && di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');
		off = ra - (uintptr_t)di.dli_fbase;
		snprintf(out, cap, "%s+0x%lx", base ? base + 1 : di.dli_fname, (unsigned long)off);
		return;
	}
	snprintf(out, cap, "0x%lx", (unsigned long)ra);
}

const char *log_caller_name(void *p, char *tmp, size_t cap, int safe)
{
	uintptr_t ra = (uintptr_t)p;
	size_t h = (ra >> 4) * 0x9E3779B97F4A7C15ull >> 56;
	for (size_t i = 0; i < 8; i++) {
		struct site *s = &sites[(h + i) % SITES];
		uintptr_t cur = atomic_load_explicit(&s->ra, memory_order_acquire);
		if (cur == ra) {
			if (atomic_load_explicit(&s->ready, memory_order_acquire))
				return s->name;
			break;            /* being filled by another thread */
		}
		if (cur == 0) {
			uintptr_t zero = 0;
			if (!atomic_compare_exchange_strong(&s->ra, &zero, ra)) {
				if (zero == ra)
					break;
				continue;
			}
			resolve(ra, s->name, sizeof s->name, safe);
			atomic_store_explicit(&s->ready, 1, memory_order_release);
			return s->name;
		}
	}
	resolve(ra, tmp, cap, safe);
	return tmp;
}

/* ---- one decoration ---------------------------------------------------------- */

void log_deco_begin(struct log_deco *d, int level, void *caller, int safe)
{
	d->level = level;
	d->caller = caller;
	d->safe = safe;
	d->viewed = 0;
	d->gsec = 0;
	d->owned = NULL;
}

void log_deco_end(struct log_deco *d)
{
	if (d->gsec)
		ctx_global_leave();
	d->gsec = 0;
	if (d->owned)
		cmap_unref(d->owned);
	d->owned = NULL;
}

const struct lt_fields *log_deco_fields(struct log_deco *d)
{
	struct lt_fields *f = &d->f;
	if (d->viewed)
		return f;
	d->viewed = 1;
	memset(f, 0, sizeof *f);
	if (ctx_cfg.mode == CTX_COPY) {
		/* the thread's own map, over the process-wide layer: both
		 * immutable, read in place; the layer kept from being freed
		 * until log_deco_end */
		f->ctx = ctx_self.map;
		if (atomic_load_explicit(&ctx_global, memory_order_relaxed)) {
			ctx_global_enter();
			d->gsec = 1;
		}
		d->gver = log_global(&f->base);
		if (f->base && !d->gsec) {
			/* set just now: this line goes without it */
			f->base = NULL;
			d->gver = 0;
		}
	} else {
		/* a snapshot, the process-wide layer included: on the stack,
		 * since a write may come from a signal handler; malloc'ed only
		 * for a large context, and only where that is safe */
		struct cmap *m = NULL;
		KEEP_ERRNO;
		d->gver = 1;    /* the layer is in the snapshot, compared with it */
		if (ctx_snapshot_into(d->snap, sizeof d->snap, &m) == 0)
			f->ctx = m;
		else if (errno == ENOSPC && d->safe && ctx_snapshot(&d->owned) == 0)
			f->ctx = d->owned;
		RESTORE_ERRNO;
	}
	f->service = log_cfg.service;
	f->service_len = log_cfg.service_len;
	f->level = d->level;
	unsigned uses = log_cfg.uses;
	if (uses & LT_USES_TIME) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		f->ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		f->ns = (int32_t)(ts.tv_nsec % 1000000);
		f->utc_off_min = tz_offset(ts.tv_sec, d->safe);
	}
	if (uses & LT_USES_PID)
		f->pid = (long)getpid();
	if (uses & LT_USES_TID)
		f->tid = (long)syscall(SYS_gettid);
	if ((uses & LT_USES_CALLER) && d->caller) {
		/* dladdr, snprintf, perhaps dlopen: nothing of ours may run */
		int was = log_enter();
		f->caller = log_caller_name(d->caller, d->caller_buf, sizeof d->caller_buf,
					    d->safe);
		log_leave(was);
	}
	return f;
}

/* ---- the prefix cache (see log.h) ----------------------------------------- */

__thread struct log_pcache log_pc CTX_TLS;
#define pc log_pc

static void pc_fill(const struct cmap *m, uint64_t gver, int level,
		    const char *pre, size_t len)
{
	size_t klen = 0;
	const char *s = m ? log_pc_strings(m, &klen) : "";
	pc.valid = 0;
	if (!s || len > LOG_PC_PRE || !gver)
		return;
	for (uint32_t i = 0; m && i < m->n; i++)
		if (m->e[i].tomb)
			return;
	memcpy(pc.key, s, klen);
	memcpy(pc.pre, pre, len);
	pc.keylen = (uint16_t)klen;
	pc.prelen = (uint16_t)len;
	pc.n = m ? m->n : 0;
	pc.gver = gver;
	pc.level = level;
	pc.valid = 1;
}

size_t log_deco_prefix(struct log_deco *d, char *out, size_t cap)
{
	const struct lt_fields *f = log_deco_fields(d);
	if (!f->ctx && !f->base)
		return 0;
	if (!log_pc_usable() || pc.busy)
		return lt_prefix(&log_cfg.tpl, log_cfg.style, f, out, cap);
	pc.busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	size_t n;
	if (log_pc_match(f->ctx, d->gver, d->level) && pc.prelen <= cap) {
		n = pc.prelen;
		memcpy(out, pc.pre, n);
	} else {
		n = lt_prefix(&log_cfg.tpl, log_cfg.style, f, out, cap);
		pc_fill(f->ctx, d->gver, d->level, out, n);
	}
	atomic_signal_fence(memory_order_seq_cst);
	pc.busy = 0;
	return n;
}

size_t log_deco_suffix(struct log_deco *d, char *out, size_t cap)
{
	return lt_suffix(&log_cfg.tpl, log_cfg.style, log_deco_fields(d), out, cap);
}
