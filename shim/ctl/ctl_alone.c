/*
 * ctl_alone.c: the listener must never keep a process alive.
 *
 * A process whose main thread is gone lives on while any thread is left.
 * Without the shim, a main thread killed by a seccomp filter ended the
 * process, and a program whose main thread called pthread_exit ended when
 * its last thread returned (glibc calls exit(0) then): the listener, a
 * thread glibc counts, would keep either alive.  It checks every CHECK_MS
 * while idle (ctl_server.c) and ends the process as it would have ended.
 * Everything here is a system call made directly (ctl.h).
 */
#include "ctl.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The next whitespace-separated field of /proc/self/stat after *P. */
static long stat_field(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
	const char *q = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	if (q == *p)
		return -1;
	return *q >= 'A' ? *q : strtol(q, NULL, 10);
}

/* 1 when the main thread is gone and this is the only other thread left
 * (the process would have ended without it); *CODE: the main thread's exit
 * code (0: it called pthread_exit).  0 whenever it cannot tell. */
int ctl_left_alone(long *code)
{
	char buf[1024];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = syscall(SYS_read, fd, buf, sizeof buf - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* After the command name (which may hold anything): field 3 is the
	 * main thread's state, 20 the thread count (the main thread
	 * included while it is a zombie), 52 the main thread's exit code. */
	const char *p = strrchr(buf, ')'), *end = buf + n;
	if (!p)
		return 0;
	p++;
	long state = 0, threads = 0;
	*code = -1;
	for (int f = 3; f <= 52 && p < end; f++) {
		long v = stat_field(&p, end);
		if (f == 3)
			state = v;
		else if (f == 20)
			threads = v;
		else if (f == 52)
			*code = v;
	}
	return (state == 'Z' || state == 'X') && threads == 2;
}

/* The main thread ended with wait status CODE (killed by a seccomp filter:
 * SIGSYS) and this is the last thread: end the process with the same
 * status.  Kernels differ on whose status a process whose main thread died
 * first reports (recent ones: the last thread's), so a killing signal is
 * raised again here, with its default action. */
void ctl_end_like_main(long code)
{
	int sig = (int)(code & 0x7f);
	if (sig) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t one;
		sigaction(sig, &dfl, NULL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		syscall(SYS_tgkill, ctl_getpid(), (pid_t)syscall(SYS_gettid), sig);
	}
	/* A normal exit code, or a signal whose default does not end it. */
	for (;;)
		syscall(SYS_exit, (int)((code >> 8) & 0xff));
}

/* ---- bounded waits on the exit path ----------------------------------------
 * Deadlines are read from the system call's clock (ctl_raw_now_ns): another
 * preload that fakes the time (libfaketime) would give up at once, or
 * never.  And only calls every thread checker knows (trylock, timedjoin). */

int ctl_lock_until(pthread_mutex_t *m, uint64_t until_ns)
{
	while (pthread_mutex_trylock(m) != 0) {
		if (ctl_raw_now_ns() >= until_ns)
			return 0;
		struct timespec ms = { 0, 1000000 };
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 1;
}

void ctl_join_until(pthread_t th, uint64_t until_ns)
{
	/* pthread_timedjoin_np counts on the real-time clock: the same time
	 * left, from the system call. */
	struct timespec rt;
	uint64_t now = ctl_raw_now_ns(), left = until_ns > now ? until_ns - now : 0;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt);
	rt.tv_sec += (time_t)(left / 1000000000u);
	rt.tv_nsec += (long)(left % 1000000000u);
	if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	pthread_timedjoin_np(th, NULL, &rt);
}
