/*
 * log_slot.c: the line state of an open file, shared by its copies (log.h),
 * and the end of records a process leaves open.
 *
 * In json and logfmt a decorated line is a record whose end (the suffix and
 * newline) is owed until the program writes the line's newline.  When the
 * last fd we know of for the open file is closed or replaced, or the process
 * exits, with such a line open, the record is ended then (its held bytes as
 * U+FFFD), so the next record, perhaps another process's, starts on a line
 * of its own.  Only lines this process left open: a forked child that
 * inherited its parent's open line leaves it alone.  No allocation, no lock.
 */
#include "log.h"
#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

_Atomic uint8_t log_line_state[FDTAB_MAX];
_Atomic uint16_t log_alias[FDTAB_MAX];
_Atomic uint32_t log_held[FDTAB_MAX];

/* Which process left the slot's line open: its generation, one more than
 * its parent's (bumped in a forked child), so an inherited value is always
 * smaller than the child's own.  Without a system call per write.  The top
 * bit: the line's last bytes went through a stdio stream (OWNER_STREAM). */
#define OWNER_STREAM 0x80000000u
static _Atomic uint32_t owner[FDTAB_MAX];
static _Atomic uint32_t generation = 1;
static _Atomic int open_top = -1;   /* highest slot ever left open */
/* The process this memory belongs to: a vforked child (or one made by
 * clone or _Fork, which run no fork handlers) shares or copies it but has
 * another pid, and must not end its parent's records. */
static _Atomic int self_pid;

/* 1 in such a child: between vfork and exec (Python's subprocess, glibc's
 * posix_spawn) the fd hooks run on the parent's memory, and the parent's
 * lines must not change.  A system call, but only when a log fd is closed
 * or copied. */
static int foreign(void)
{
	return getpid() != atomic_load_explicit(&self_pid, memory_order_relaxed);
}

/* How many fds are copies of another (their alias is not 0), and the
 * highest such fd ever: a closing fd looks for its copies only below it,
 * and only when there are any. */
static _Atomic int alias_count;
static _Atomic int alias_top;

void log_fd_dup(int old, int new)
{
	if ((unsigned)old >= FDTAB_MAX || (unsigned)new >= FDTAB_MAX || old == new || foreign())
		return;
	int s = log_slot(old);
	if (s == new)
		return;   /* cannot happen: NEW was forgotten, its slot handed on */
	atomic_store_explicit(&log_alias[new], (uint16_t)(new ^ s), memory_order_relaxed);
	atomic_fetch_add_explicit(&alias_count, 1, memory_order_relaxed);
	int top = atomic_load_explicit(&alias_top, memory_order_relaxed);
	while (new > top &&
	       !atomic_compare_exchange_weak_explicit(&alias_top, &top, new, memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* FD is closed or replaced (before the real call).  A copy lets go of its
 * slot, whose owner's line goes on; an owner hands its slot (the line state
 * and held bytes) to one of its copies if there are any, else it is reset.
 * No allocation, no lock: this runs in close(). */
void log_fd_closed(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX || foreign())
		return;
	int s = log_slot(fd);
	if (s != fd) {
		atomic_store_explicit(&log_alias[fd], 0, memory_order_relaxed);
		atomic_fetch_sub_explicit(&alias_count, 1, memory_order_relaxed);
		return;
	}
	int heir = -1;
	if (atomic_load_explicit(&alias_count, memory_order_relaxed) > 0) {
		int top = atomic_load_explicit(&alias_top, memory_order_relaxed);
		for (int f = 0; f <= top && f < FDTAB_MAX; f++) {
			if (f == fd || log_slot(f) != fd)
				continue;
			if (heir < 0) {
				heir = f;
				atomic_store_explicit(&log_held[f],
						      atomic_load_explicit(&log_held[fd], memory_order_relaxed),
						      memory_order_relaxed);
				atomic_store_explicit(&owner[f],
						      atomic_load_explicit(&owner[fd], memory_order_relaxed),
						      memory_order_relaxed);
				atomic_store_explicit(&log_line_state[f],
						      atomic_load_explicit(&log_line_state[fd],
									   memory_order_relaxed),
						      memory_order_relaxed);
				if (f > atomic_load_explicit(&open_top, memory_order_relaxed))
					atomic_store_explicit(&open_top, f, memory_order_relaxed);
				atomic_store_explicit(&log_alias[f], 0, memory_order_relaxed);
				atomic_fetch_sub_explicit(&alias_count, 1, memory_order_relaxed);
			} else {
				atomic_store_explicit(&log_alias[f], (uint16_t)(f ^ heir),
						      memory_order_relaxed);
			}
		}
	}
	atomic_store_explicit(&log_held[fd], 0, memory_order_relaxed);
	atomic_store_explicit(&log_line_state[fd], 0, memory_order_relaxed);
}

void log_line_left_open(int fd, int stream)
{
	if ((unsigned)fd >= FDTAB_MAX)
		return;
	int s = log_slot(fd);
	uint32_t gen = atomic_load_explicit(&generation, memory_order_relaxed);
	atomic_store_explicit(&owner[s], gen | (stream ? OWNER_STREAM : 0), memory_order_relaxed);
	if (s > atomic_load_explicit(&open_top, memory_order_relaxed))
		atomic_store_explicit(&open_top, s, memory_order_relaxed);
}

/* Write P to FD once, without a SIGPIPE the program would not have had. */
static void quiet_write(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGPIPE);
	while (n) {
		ssize_t r = REAL(write)(fd, p, n);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (!(r < 0 && errno == EINTR)) {
			break;
		}
	}
	if (!was_pending) {
		struct timespec zero = { 0, 0 };
		REAL(sigtimedwait)(&pipe_set, NULL, &zero);   /* the one we raised, if any */
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The standard stream writing to slot S, or NULL. */
static FILE *std_stream(int s)
{
	FILE *std[2] = { stderr, stdout };
	for (int i = 0; i < 2; i++) {
		int fd = std[i] ? fileno(std[i]) : -1;
		if ((unsigned)fd < FDTAB_MAX && log_slot(fd) == s)
			return std[i];
	}
	return NULL;
}

/* End the record open in slot S if this process opened it (json, logfmt).
 * Its bytes may still wait in a stdio buffer: then the end goes after them
 * through the same stream (stdout, stderr), or, for another stream the
 * shim cannot name, is left out rather than written before them. */
static void end_record(int s)
{
	unsigned st = atomic_load_explicit(&log_line_state[s], memory_order_relaxed);
	uint32_t own = atomic_load_explicit(&owner[s], memory_order_relaxed);
	/* S itself may be unjudged (FD_LOGQ) while its line was written as a
	 * log through a copy judged on its own (dup2(2, 1) and a write on 1):
	 * the same open file, so the same verdict; LST_DEC says it was a log. */
	if (!(st & LST_DEC) || log_cfg.style == LF_TEXT || !(fdtab_get(s) & (FD_LOG | FD_LOGQ)) ||
	    (own & ~OWNER_STREAM) != atomic_load_explicit(&generation, memory_order_relaxed) ||
	    foreign())
		return;
	FILE *f = NULL;
	if (own & OWNER_STREAM) {
		f = std_stream(s);
		if (!f)
			return;
		if (__fpending(f) == 0)
			f = NULL;   /* nothing waits: straight to the fd */
	}
	uint32_t h = atomic_exchange_explicit(&log_held[s], 0, memory_order_relaxed);
	unsigned char held[3];
	size_t n = h >> 24;
	for (size_t i = 0; i < n && i < 3; i++)
		held[i] = (unsigned char)(h >> (8 * i));
	char buf[48];
	struct lbuf b;
	struct lt_fields none;
	memset(&none, 0, sizeof none);
	lb_init(&b, buf, sizeof buf);
	lf_json_string(&b, (const char *)held, n);   /* never completed: U+FFFD */
	b.len += lt_suffix(&log_cfg.tpl, log_cfg.style, &none, buf + b.len, sizeof buf - 1 - b.len);
	buf[b.len++] = '\n';
	KEEP_ERRNO;
	if (f) {
		/* never wait for a lock another thread may hold at exit */
		if (ftrylockfile(f) != 0)
			return;
		int was = log_enter();
		REAL(fwrite_unlocked)(buf, 1, b.len, f);
		log_leave(was);
		funlockfile(f);
	} else {
		quiet_write(s, buf, b.len);
	}
	atomic_store_explicit(&log_line_state[s], 0, memory_order_relaxed);
	RESTORE_ERRNO;
}

/* 1 when another fd we know of is a copy of slot S. */
static int has_copies(int s)
{
	if (atomic_load_explicit(&alias_count, memory_order_relaxed) <= 0)
		return 0;
	int top = atomic_load_explicit(&alias_top, memory_order_relaxed);
	for (int f = 0; f <= top && f < FDTAB_MAX; f++)
		if (f != s && log_slot(f) == s)
			return 1;
	return 0;
}

void log_fd_closing(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX || log_cfg.style == LF_TEXT)
		return;
	int s = log_slot(fd);
	if (s != fd || !(atomic_load_explicit(&log_line_state[s], memory_order_relaxed) & LST_DEC))
		return;   /* a copy: the line goes on through the others */
	if (!has_copies(s))
		end_record(s);
}

static void fork_child(void)
{
	atomic_fetch_add(&generation, 1);
	atomic_store(&self_pid, getpid());
}

void log_slots_init(void)
{
	atomic_store(&self_pid, getpid());
	ctx_at_fork(NULL, NULL, fork_child);
}

__attribute__((destructor)) static void log_slots_fini(void)
{
	if (log_cfg.style == LF_TEXT)
		return;
	int top = atomic_load_explicit(&open_top, memory_order_relaxed);
	for (int s = 0; s <= top && s < FDTAB_MAX; s++)
		if (log_slot(s) == s)
			end_record(s);
}
