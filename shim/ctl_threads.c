/*
 * ctl_threads.c: the registry of live threads, and where they were started.
 *
 * With control on, every thread made by pthread_create is registered by the
 * trampoline in hook_thread.c (ctl_thread_begin) and unregistered by this
 * file's key destructor when it ends.  A record holds the address of the
 * thread's ctx_self, so the listener can read its context with ctx_peek; the
 * registry lock is held across that read and across unregistering, so a
 * record is only read while its thread (and its TLS) is alive.  Nothing on a
 * host thread waits for a client: the listener formats and sends after
 * letting go of the lock.
 *
 * With CTXSHIM_TRACE_SPAWN=1 the parent's stack is captured at
 * pthread_create with libunwind, loaded with dlopen(RTLD_LOCAL) the first
 * time it is needed (linking it would rebind C++ unwinding: PITFALLS.md).
 * Addresses are kept; names are looked up only when a client asks.
 */
#include "ctl.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"

#define SPAWN_FRAMES 24

struct ctl_thread {
	struct ctl_thread *prev, *next;
	struct ctx_thread *ctx;     /* the thread's ctx_self */
	pid_t tid;
	pid_t ptid;                 /* the thread that called pthread_create */
	uint64_t start_ns;          /* CLOCK_MONOTONIC */
	int nframes;                /* spawn backtrace, innermost first */
	void *frames[];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_thread reg_head = { &reg_head, &reg_head, NULL, 0, 0, 0, 0 };
static unsigned reg_count;
static pthread_key_t reg_key;

static __thread pid_t my_tid CTX_TLS;

pid_t ctl_tid(void)
{
	if (unlikely(!my_tid))
		my_tid = (pid_t)syscall(SYS_gettid);
	return my_tid;
}

uint64_t ctl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- spawn backtraces -------------------------------------------------- */

typedef int (*unw_backtrace_fn)(void **, int);
static unw_backtrace_fn _Atomic unw_bt;
static atomic_int unw_state;     /* 0 untried, 1 loading, 2 loaded, 3 failed */

/* libunwind's unw_backtrace, loaded on first use; NULL while another thread
 * loads it or when it is not installed (then spawns go untraced). */
static unw_backtrace_fn unwinder(void)
{
	unw_backtrace_fn f = atomic_load_explicit(&unw_bt, memory_order_acquire);
	int expected = 0;
	if (likely(f != NULL) || !atomic_compare_exchange_strong(&unw_state, &expected, 1))
		return f;
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	f = h ? (unw_backtrace_fn)dlsym(h, "unw_backtrace") : NULL;
	if (!f)
		ctx_warn("CTXSHIM_TRACE_SPAWN: libunwind.so.8 not usable (%s); spawns untraced",
			 h ? "no unw_backtrace" : "not found");
	atomic_store_explicit(&unw_bt, f, memory_order_release);
	atomic_store(&unw_state, f ? 2 : 3);
	return f;
}

/* A record with room for FRAMES spawn frames, captured here. */
static struct ctl_thread *rec_new(int frames)
{
	struct ctl_thread *r = malloc(sizeof *r + (size_t)frames * sizeof(void *));
	if (!r)
		return NULL;
	r->ctx = NULL;
	r->tid = 0;
	r->ptid = ctl_tid();
	r->nframes = 0;
	if (frames) {
		ctx_self.in_hook++;   /* libunwind allocates and reads files */
		unw_backtrace_fn bt = unwinder();
		if (bt) {
			int n = bt(r->frames, frames);
			r->nframes = n > 0 ? n : 0;
		}
		ctx_self.in_hook--;
	}
	return r;
}

struct ctl_thread *ctl_thread_new(void)
{
	return rec_new(ctl_trace_spawn ? SPAWN_FRAMES : 0);
}

void ctl_thread_drop(struct ctl_thread *rec)
{
	free(rec);
}

static void link_rec(struct ctl_thread *r)
{
	pthread_mutex_lock(&reg_lock);
	r->next = &reg_head;
	r->prev = reg_head.prev;
	reg_head.prev->next = r;
	reg_head.prev = r;
	reg_count++;
	pthread_mutex_unlock(&reg_lock);
}

static void unlink_rec(struct ctl_thread *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	reg_count--;
}

void ctl_thread_begin(struct ctl_thread *r)
{
	my_tid = (pid_t)syscall(SYS_gettid);
	r->tid = my_tid;
	r->ctx = &ctx_self;
	r->start_ns = ctl_now_ns();
	link_rec(r);
	if (pthread_setspecific(reg_key, r) != 0) {
		/* Without the destructor the record would outlive the thread. */
		pthread_mutex_lock(&reg_lock);
		unlink_rec(r);
		pthread_mutex_unlock(&reg_lock);
		free(r);
	}
}

/* The key destructor: the thread is ending; its TLS is still valid here,
 * and no reader can reach the record once it is unlinked. */
static void thread_gone(void *p)
{
	struct ctl_thread *r = p;
	pthread_mutex_lock(&reg_lock);
	unlink_rec(r);
	pthread_mutex_unlock(&reg_lock);
	free(r);
}

void ctl_threads_init(void)
{
	pthread_key_create(&reg_key, thread_gone);
	struct ctl_thread *r = rec_new(0);
	if (r) {
		r->ptid = 0;
		ctl_thread_begin(r);
	}
}

/* ---- fork ------------------------------------------------------------- */

void ctl_threads_fork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

void ctl_threads_fork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

/* The child has one thread, the one that forked: every other record names
 * a thread that does not exist here. */
void ctl_threads_fork_child(void)
{
	struct ctl_thread *mine = pthread_getspecific(reg_key);
	pthread_mutex_init(&reg_lock, NULL);
	for (struct ctl_thread *r = reg_head.next, *next; r != &reg_head; r = next) {
		next = r->next;
		if (r != mine)
			free(r);
	}
	reg_head.next = reg_head.prev = &reg_head;
	reg_count = 0;
	my_tid = (pid_t)syscall(SYS_gettid);
	if (!mine) {
		mine = rec_new(0);
		if (!mine)
			return;
		mine->ctx = &ctx_self;
		pthread_setspecific(reg_key, mine);
	}
	mine->tid = my_tid;
	mine->ptid = 0;
	mine->start_ns = ctl_now_ns();
	link_rec(mine);
}

/* ---- the answer ----------------------------------------------------------- */

/* What is read under the lock, formatted after it. */
struct seen {
	pid_t tid, ptid;
	uint64_t start_ns;
	struct cmap *ctx;
	int peek_failed;
	int nframes;
	void *frames[SPAWN_FRAMES];
};

static void thread_name(pid_t tid, char *out, size_t cap)
{
	char path[64];
	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = REAL(read)(fd, out, cap - 1);
	REAL(close)(fd);
	if (n < 0)
		n = 0;
	if (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
}

static void put_context(struct jbuf *b, const struct cmap *m)
{
	jb_raw(b, "{", 1);
	for (uint32_t i = 0; m && i < m->n; i++) {
		jb_comma(b);
		jb_str(b, m->e[i].key, m->e[i].klen);
		jb_raw(b, ":", 1);
		jb_str(b, m->e[i].val, m->e[i].vlen);
	}
	jb_raw(b, "}", 1);
}

static void put_hex(struct jbuf *b, uintptr_t v)
{
	char s[24];
	int n = snprintf(s, sizeof s, "0x%lx", (unsigned long)v);
	jb_raw(b, "\"", 1);
	jb_raw(b, s, (size_t)n);
	jb_raw(b, "\"", 1);
}

/* The spawn frames, without the shim's own (the capture itself and the
 * pthread_create hook): the first frame is the program's call site. */
static void put_frames(struct jbuf *b, void *const *f, int n, int symbols)
{
	Dl_info self, info;
	int have_self = dladdr((void *)&ctl_thread_new, &self) != 0;
	int i = 0;
	while (i < n && have_self && dladdr(f[i], &info) && info.dli_fbase == self.dli_fbase)
		i++;
	jb_raw(b, "[", 1);
	for (; i < n; i++) {
		jb_comma(b);
		if (!symbols) {
			put_hex(b, (uintptr_t)f[i]);
			continue;
		}
		/* A return address points after the call: look up the byte
		 * before it, so a call that ends a function names that one. */
		void *at = (char *)f[i] - 1;
		jb_raw(b, "{", 1);
		jb_key(b, "addr");
		put_hex(b, (uintptr_t)f[i]);
		if (dladdr(at, &info) && info.dli_fname) {
			jb_key(b, "module");
			jb_cstr(b, info.dli_fname);
			jb_key(b, "offset");
			put_hex(b, (uintptr_t)f[i] - (uintptr_t)info.dli_fbase);
			if (info.dli_sname) {
				jb_key(b, "symbol");
				jb_cstr(b, info.dli_sname);
				jb_key(b, "symbol_offset");
				put_hex(b, (uintptr_t)f[i] - (uintptr_t)info.dli_saddr);
			}
		}
		jb_raw(b, "}", 1);
	}
	jb_raw(b, "]", 1);
}

static int has_tid(const struct seen *s, unsigned n, pid_t tid)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i].tid == tid)
			return 1;
	return 0;
}

static void put_thread(struct jbuf *b, const struct seen *s, uint64_t now, int symbols)
{
	char name[32];
	thread_name(s->tid, name, sizeof name);
	jb_comma(b);
	jb_raw(b, "{", 1);
	jb_key(b, "tid");
	jb_int(b, s->tid);
	jb_key(b, "name");
	jb_cstr(b, name);
	jb_key(b, "main");
	jb_lit(b, s->tid == getpid() ? "true" : "false");
	jb_key(b, "known");
	jb_lit(b, "true");
	jb_key(b, "parent_tid");
	if (s->ptid)
		jb_int(b, s->ptid);
	else
		jb_lit(b, "null");
	jb_key(b, "age_ms");
	jb_uint(b, now > s->start_ns ? (now - s->start_ns) / 1000000u : 0);
	jb_key(b, "context");
	if (s->peek_failed)
		jb_lit(b, "null");
	else
		put_context(b, s->ctx);
	if (ctl_trace_spawn && s->ptid) {
		jb_key(b, "spawn");
		put_frames(b, s->frames, s->nframes, symbols);
	}
	jb_raw(b, "}", 1);
}

/* Threads the registry does not know (made before the shim was loaded, by
 * a raw clone, or the shim's own listener), from /proc/self/task. */
static void put_unknown(struct jbuf *b, const struct seen *s, unsigned n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0 || has_tid(s, n, (pid_t)tid))
			continue;
		char name[32];
		thread_name((pid_t)tid, name, sizeof name);
		jb_comma(b);
		jb_raw(b, "{", 1);
		jb_key(b, "tid");
		jb_int(b, tid);
		jb_key(b, "name");
		jb_cstr(b, name);
		jb_key(b, "main");
		jb_lit(b, tid == getpid() ? "true" : "false");
		jb_key(b, "known");
		jb_lit(b, "false");
		if (tid == ctl_tid()) {
			jb_key(b, "role");
			jb_lit(b, "\"ctxshim control\"");
		}
		jb_raw(b, "}", 1);
	}
	closedir(d);
}

void ctl_threads_answer(struct jbuf *b, int symbols)
{
	struct seen *s = NULL;
	unsigned n = 0, cap = 0;

	/* Room for every record, taken before the lock; retried if threads
	 * were added meanwhile. */
	for (;;) {
		pthread_mutex_lock(&reg_lock);
		unsigned want = reg_count;
		if (want <= cap)
			break;
		pthread_mutex_unlock(&reg_lock);
		free(s);
		cap = want + 16;
		s = malloc(cap * sizeof *s);
		if (!s) {
			ctl_answer_error(b, "out of memory");
			return;
		}
	}
	for (struct ctl_thread *r = reg_head.next; r != &reg_head && n < cap; r = r->next) {
		struct seen *t = &s[n++];
		t->tid = r->tid;
		t->ptid = r->ptid;
		t->start_ns = r->start_ns;
		t->ctx = NULL;
		t->peek_failed = ctx_peek(r->ctx, &t->ctx) < 0;
		t->nframes = r->nframes;
		memcpy(t->frames, r->frames, (size_t)r->nframes * sizeof(void *));
	}
	pthread_mutex_unlock(&reg_lock);

	uint64_t now = ctl_now_ns();
	jb_lit(b, "{\"ok\":true");
	jb_key(b, "pid");
	jb_int(b, getpid());
	jb_key(b, "trace_spawn");
	jb_lit(b, ctl_trace_spawn ? "true" : "false");
	jb_key(b, "threads");
	jb_raw(b, "[", 1);
	for (unsigned i = 0; i < n; i++)
		put_thread(b, &s[i], now, symbols);
	put_unknown(b, s, n);
	jb_lit(b, "]}\n");
	for (unsigned i = 0; i < n; i++)
		cmap_unref(s[i].ctx);
	free(s);
}
