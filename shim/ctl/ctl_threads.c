/*
 * ctl_threads.c: the registry of live threads, and where they were started.
 *
 * With control on, every thread made by pthread_create gets a record, made
 * in the parent (ctl_thread_new), filled in by the new thread first thing
 * (ctl_thread_begin) and given back when its start routine returns or the
 * thread exits or is cancelled (ctl_thread_end, a cleanup handler of the
 * trampoline in thread.c).  A record holds the address of the thread's
 * ctx_self, so the listener can read its context with ctx_peek; the registry
 * lock is held across that read and across giving a record back, so a
 * record is only read while its thread (and its TLS) is alive.  Nothing on
 * a host thread waits for a client: the listener formats and sends after
 * letting go of the lock.
 *
 * Thread creation must stay as cheap as without control, so the new thread
 * neither allocates nor frees (its first free() would set up a malloc cache
 * for it, torn down again at exit) and sets no thread-specific key (a key
 * with a value makes glibc walk the key table at exit): records are
 * recycled through a free list, by the creating threads.
 *
 * With CTXSHIM_TRACE_SPAWN=1 the record also keeps where the thread was
 * started (ctl_spawn.c).
 */
#include "ctl.h"

#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct ctl_thread {
	struct ctl_thread *prev, *next;     /* the live list, or the free list */
	struct ctx_thread *_Atomic ctx;     /* the thread's ctx_self; NULL until
					     * the thread runs */
	pid_t tid;
	pid_t pid;                  /* the process that made the record */
	pid_t ptid;                 /* the thread that called pthread_create */
	uint64_t start_ns;          /* ctl_now_ns() */
	int nframes;                /* spawn backtrace, innermost first */
	_Alignas(16) unsigned char payload[CTL_PAYLOAD];
	void *frames[];
};

static pthread_mutex_t reg_lock CTL_FORK_DATA = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_thread reg_head CTL_FORK_DATA = { .prev = &reg_head, .next = &reg_head };
static unsigned reg_count CTL_FORK_DATA;
static struct ctl_thread *free_list CTL_FORK_DATA;   /* records to reuse, under reg_lock */
static unsigned free_count CTL_FORK_DATA;
static pid_t proc_pid CTL_FORK_DATA;   /* this process (records it made) */
#define FREE_KEEP 256                  /* more than this are freed */

/* This thread's record (fork keeps it for the forking thread). */
static __thread struct ctl_thread *my_rec CTX_TLS;
static __thread pid_t my_tid CTX_TLS;
static int tid_by_clock;    /* the thread CPU clock id gives the tid */

/* The calling thread's tid without a system call: the CPU-time clock id of
 * a thread encodes its tid as ~tid << 3 | flags (the kernel's CPUCLOCK ABI,
 * which glibc's pthread_getcpuclockid builds from the thread's own record).
 * Checked once against gettid() (ctl_threads_init); else the syscall. */
static pid_t read_tid(void)
{
	clockid_t cid;
	if (likely(tid_by_clock) && pthread_getcpuclockid(pthread_self(), &cid) == 0)
		return (pid_t)~((int)cid >> 3);
	return (pid_t)syscall(SYS_gettid);
}

pid_t ctl_tid(void)
{
	if (unlikely(!my_tid))
		my_tid = read_tid();
	return my_tid;
}

/* libc's own clock_gettime (its vDSO path), found once by ctl_threads_init
 * in libc itself: a library preloaded after the shim may fake the clocks
 * (libfaketime) and be torn down at exit while the listener still reads
 * them.  NULL: the system call. */
uint64_t ctl_raw_now_ns(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t rec_size(void)
{
	return sizeof(struct ctl_thread) + (ctl_trace_spawn ? CTL_SPAWN_FRAMES * sizeof(void *) : 0);
}

/* A record from the free list (or new), linked into the registry; not yet
 * readable (ctx NULL).  Surplus free records are released here, by a
 * creating thread. */
static struct ctl_thread *rec_get(void)
{
	struct ctl_thread *r, *surplus = NULL, *fresh = NULL;
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		r = free_list;
		if (r) {
			free_list = r->next;
			free_count--;
			if (free_count > FREE_KEEP) {
				surplus = free_list;
				free_list = surplus->next;
				free_count--;
			}
		} else if (fresh) {
			r = fresh;
			fresh = NULL;
		} else {
			pthread_mutex_unlock(&reg_lock);
			fresh = malloc(rec_size());
			if (!fresh)
				return NULL;
			pthread_mutex_lock(&reg_lock);
			continue;    /* another thread may have put one back */
		}
		break;
	}
	atomic_store_explicit(&r->ctx, NULL, memory_order_relaxed);
	r->tid = 0;
	r->pid = proc_pid;
	r->ptid = 0;
	r->nframes = 0;
	r->next = &reg_head;
	r->prev = reg_head.prev;
	reg_head.prev->next = r;
	reg_head.prev = r;
	reg_count++;
	pthread_mutex_unlock(&reg_lock);
	free(surplus);
	free(fresh);
	return r;
}

/* Back to the free list (reg_lock held). */
static void rec_put_locked(struct ctl_thread *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	reg_count--;
	r->next = free_list;
	free_list = r;
	free_count++;
}

struct ctl_thread *ctl_thread_new(void)
{
	struct ctl_thread *r = rec_get();
	if (!r)
		return NULL;
	r->ptid = ctl_tid();
	if (ctl_trace_spawn) {
		ctx_self.in_hook++;   /* libunwind allocates and reads files */
		r->nframes = ctl_spawn_capture(r->frames, CTL_SPAWN_FRAMES);
		ctx_self.in_hook--;
	}
	return r;
}

void *ctl_thread_payload(struct ctl_thread *r)
{
	return r->payload;
}

void ctl_thread_drop(struct ctl_thread *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&reg_lock);
	rec_put_locked(r);
	pthread_mutex_unlock(&reg_lock);
}

/* R describes the calling thread from now on. */
static void rec_fill(struct ctl_thread *r)
{
	my_tid = read_tid();
	my_rec = r;
	r->tid = my_tid;
	r->start_ns = ctl_now_ns();
	/* Published last: a reader that sees ctx sees the rest. */
	atomic_store_explicit(&r->ctx, &ctx_self, memory_order_release);
	/* Then its reads of the process-wide layer are counted where the
	 * reclaimer looks (the record is already visible to it). */
	ctx_global_reader(1);
}

void ctl_thread_begin(struct ctl_thread *r)
{
	rec_fill(r);
}

void ctl_thread_end(void *rec)
{
	struct ctl_thread *r = rec;
	ctx_global_reader(0);     /* before the record goes: no read unseen */
	pthread_mutex_lock(&reg_lock);
	rec_put_locked(r);
	pthread_mutex_unlock(&reg_lock);
	my_rec = NULL;
}

/* ctx_global_scan (core.h): the oldest epoch an open read of the
 * process-wide layer began in, over every registered thread.  Under the
 * registry lock, so each thread's TLS is alive while it is read. */
static uint64_t oldest_reader(void)
{
	uint64_t oldest = UINT64_MAX, e;
	pthread_mutex_lock(&reg_lock);
	for (struct ctl_thread *r = reg_head.next; r != &reg_head; r = r->next) {
		struct ctx_thread *t = atomic_load_explicit(&r->ctx, memory_order_acquire);
		if (t && ctx_global_reading(t, &e) && e < oldest)
			oldest = e;
	}
	pthread_mutex_unlock(&reg_lock);
	return oldest;
}

void ctl_threads_init(void)
{
	clockid_t cid;
	ctx_global_scan = oldest_reader;
	(void)ctx_now_ns();   /* libc's clock found now, before any other thread */
	tid_by_clock = pthread_getcpuclockid(pthread_self(), &cid) == 0 &&
		       (pid_t)~((int)cid >> 3) == (pid_t)syscall(SYS_gettid);
	/* The main thread stays registered for the life of the process: its
	 * TLS is part of the initial allocation and outlives even its
	 * pthread_exit.  Another thread that happened to run ctx_init first
	 * has no cleanup handler to unregister it: it stays unknown. */
	proc_pid = ctl_getpid();
	if (read_tid() != proc_pid)
		return;
	struct ctl_thread *r = rec_get();
	if (r)
		rec_fill(r);
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
 * a thread that does not exist here.  They go to the free list when the
 * child starts its listener (ctl_threads_child_start): pages a child writes
 * at fork are copied, and most children exec or exit at once. */
void ctl_threads_fork_child(int locked, pid_t pid)
{
	my_tid = read_tid();
	proc_pid = pid;
	if (locked)
		pthread_mutex_init(&reg_lock, NULL);
}

void ctl_threads_child_start(void)
{
	struct ctl_thread *mine = my_rec;
	pthread_mutex_lock(&reg_lock);
	for (struct ctl_thread *r = reg_head.next, *next; r != &reg_head; r = next) {
		next = r->next;
		if (r != mine && r->pid != proc_pid)
			rec_put_locked(r);     /* the parent's */
	}
	if (mine) {    /* else: unregistered in the parent, stays unknown */
		mine->pid = proc_pid;
		mine->tid = ctl_tid();
		mine->ptid = 0;
		mine->nframes = 0;
		mine->start_ns = ctl_now_ns();
	}
	pthread_mutex_unlock(&reg_lock);
}

/* ---- the answer ----------------------------------------------------------- */

/* What is read under the lock, formatted after it. */
struct seen {
	pid_t tid, ptid;
	uint64_t start_ns;
	struct cmap *ctx;
	int peek_failed;
	int nframes;
	void *frames[CTL_SPAWN_FRAMES];
};

static void thread_name(pid_t tid, char *out, size_t cap)
{
	char path[64];
	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
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

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
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
		ctl_spawn_put(b, s->frames, s->nframes, symbols);
	}
	jb_raw(b, "}", 1);
}

/* Threads the registry does not know (made before the shim was loaded, by
 * a raw clone, or the shim's own listener), from /proc/self/task. */
static void put_unknown(struct jbuf *b, const struct seen *s, unsigned n)
{
	pid_t *known = malloc((n ? n : 1) * sizeof *known);
	DIR *d = known ? opendir("/proc/self/task") : NULL;
	struct dirent *e;
	if (!d) {
		free(known);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		known[i] = s[i].tid;
	qsort(known, n, sizeof *known, tid_cmp);
	while ((e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		pid_t t = (pid_t)tid;
		if (*end || tid <= 0 || bsearch(&t, known, n, sizeof *known, tid_cmp))
			continue;
		char name[32];
		thread_name(t, name, sizeof name);
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
		if (t == ctl_tid()) {
			jb_key(b, "role");
			jb_lit(b, "\"ctxshim control\"");
		}
		jb_raw(b, "}", 1);
	}
	closedir(d);
	free(known);
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
		struct ctx_thread *ctx = atomic_load_explicit(&r->ctx, memory_order_acquire);
		if (!ctx)
			continue;     /* its thread has not started yet */
		struct seen *t = &s[n++];
		t->tid = r->tid;
		t->ptid = r->ptid;
		t->start_ns = r->start_ns;
		t->ctx = NULL;
		t->peek_failed = ctx_peek(ctx, &t->ctx) < 0;
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
