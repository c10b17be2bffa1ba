/*
 * ctl_hooks.c: the calls that decide when a process's control listener
 * starts and when it must stop (CTXSHIM_CONTROL=1; see ctl_server.c).
 *
 * Start.  Making the endpoint and the listener inside fork
 * tripled the cost of a fork, for children that exec or exit at once as
 * much as for the workers an operator wants to reach; and a listener thread
 * in every short command (true, grep, sed under xargs or a shell) cost a
 * thread's start and join each.  So a process makes its endpoint at
 * start-up (a forked child: later, see below) and starts the listener
 * thread at its first wait, the first call that shows it lives on:
 *   - an event-loop wait: poll, ppoll, select, pselect, epoll_wait,
 *     epoll_pwait, epoll_pwait2 (net/net_lease.c) and accept (net_conn.c),
 *     through ctx_waiting();
 *   - a sleep: nanosleep, clock_nanosleep, usleep, sleep;
 *   - a signal wait: pause, sigsuspend, sigwait, sigwaitinfo, sigtimedwait;
 *   - a blocking wait for a child: wait, waitpid, wait4, waitid (not with
 *     WNOHANG: SIGCHLD handlers reap that way, and starting a thread from
 *     a signal handler is not safe);
 *   - a forked child also just before it changes its uid (setuid, seteuid,
 *     setreuid, setresuid): its endpoint goes into the directory of the
 *     uid it started with, which it may not enter afterwards (nginx's
 *     workers become nobody, then wait in epoll_wait).
 * A forked child makes its endpoint together with the thread.  No timer
 * and no thread are involved in deciding: a process that never waits (it
 * execs, exits, or computes) starts no thread, and a forked child that
 * never waits makes no endpoint either.
 *
 * Stop, for good: before the process sandboxes itself the
 * listener is stopped and joined and the endpoint removed, because what
 * follows may forbid what they need (sshd's pre-authentication child
 * installs a seccomp filter that kills a thread calling unlink) or require
 * a single-threaded process (unshare(CLONE_NEWUSER), setns into a mount or
 * user namespace):
 *   - prctl(PR_SET_SECCOMP), prctl(PR_SET_NO_NEW_PRIVS, 1) (required before
 *     an unprivileged process may install a filter, by prctl or by the
 *     seccomp system call, for which glibc 2.36 has no wrapper);
 *   - unshare with any namespace flag, setns, chroot.
 *
 * Every hook here: nothing but one flag test when there is nothing to do;
 * errno kept by the callees; works before the constructor ran (REAL
 * resolves; the flags are 0); the real function called last, so a
 * cancellation point stays one.
 */
#include "ctl.h"

#include "hooks.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/wait.h>

/* A forked child that has made no endpoint yet makes it now. */
#define LAZY()                                  \
	do {                                    \
		if (unlikely(ctl_pending))      \
			ctl_lazy_start();       \
	} while (0)

/* The event-loop waits (poll, select, epoll_wait and their kin) are the
 * sockets family's hooks (net/net_lease.c): they call ctx_waiting(), which
 * brings a forked child's listener up through ctl_lazy_start. */

/* ---- sleeps and signal waits ---------------------------------------------- */

CTX_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	LAZY();
	return REAL(nanosleep)(req, rem);
}

CTX_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
			       struct timespec *rem)
{
	LAZY();
	return REAL(clock_nanosleep)(clock, flags, req, rem);
}

CTX_EXPORT int usleep(useconds_t us)
{
	LAZY();
	return REAL(usleep)(us);
}

CTX_EXPORT unsigned int sleep(unsigned int s)
{
	LAZY();
	return REAL(sleep)(s);
}

CTX_EXPORT int pause(void)
{
	LAZY();
	return REAL(pause)();
}

CTX_EXPORT int sigsuspend(const sigset_t *mask)
{
	LAZY();
	return REAL(sigsuspend)(mask);
}

CTX_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	LAZY();
	return REAL(sigwait)(set, sig);
}

CTX_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	LAZY();
	return REAL(sigwaitinfo)(set, info);
}

CTX_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	LAZY();
	return REAL(sigtimedwait)(set, info, timeout);
}

/* ---- blocking waits for a child ---------------------------------------------- */

/* Only a wait that blocks: SIGCHLD handlers reap with WNOHANG, and starting
 * a thread from a signal handler is not safe. */
CTX_EXPORT pid_t wait(int *status)
{
	LAZY();
	return REAL(wait)(status);
}

CTX_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	if (!(options & WNOHANG))
		LAZY();
	return REAL(waitpid)(pid, status, options);
}

CTX_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	if (!(options & WNOHANG))
		LAZY();
	return REAL(wait4)(pid, status, options, ru);
}

CTX_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	if (!(options & WNOHANG))
		LAZY();
	return REAL(waitid)(type, id, info, options);
}

/* ---- uid changes: the endpoint first, while the directory is ours ---------- */

CTX_EXPORT int setuid(uid_t uid)
{
	LAZY();
	return REAL(setuid)(uid);
}

CTX_EXPORT int seteuid(uid_t uid)
{
	LAZY();
	return REAL(seteuid)(uid);
}

CTX_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	LAZY();
	return REAL(setreuid)(ruid, euid);
}

CTX_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	LAZY();
	return REAL(setresuid)(ruid, euid, suid);
}

/* ---- sandboxing: the listener stops for good first -------------------------- */

/* glibc's prctl reads four more arguments whatever the option; so does this
 * one, and passes them all on. */
CTX_EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (unlikely(option == PR_SET_SECCOMP || (option == PR_SET_NO_NEW_PRIVS && a2 == 1)) &&
	    ctl_on)
		ctl_seal();
	return REAL(prctl)(option, a2, a3, a4, a5);
}

CTX_EXPORT int unshare(int flags)
{
	if ((flags & ~(CLONE_FILES | CLONE_FS | CLONE_SYSVSEM)) && ctl_on)
		ctl_seal();
	return REAL(unshare)(flags);
}

CTX_EXPORT int setns(int fd, int nstype)
{
	if (ctl_on)
		ctl_seal();
	return REAL(setns)(fd, nstype);
}

CTX_EXPORT int chroot(const char *path)
{
	if (ctl_on)
		ctl_seal();
	return REAL(chroot)(path);
}
