/*
 * log_fdkind.c: whether a process's stdout/stderr is a log or data.  The
 * settings reach every child, but bytes another
 * process reads as data must never change: a shell's `$(...)`, popen, a
 * subprocess with captured output, a CGI script's connection, FastCGI
 * workers' stderr are pipes or sockets their parent reads.
 *
 * The rule (README, "What is a log, what is data"): a regular file, a
 * terminal or other device, and journald's stream socket are logs; a pipe or
 * socket is a log only when it came from outside the tree of processes under
 * the shim.  The first process under the shim (no CTXSHIM_LOG_PIPES in its
 * environment) was given its stdout and stderr by someone else (a shell
 * pipeline to tee, cron, a test harness, systemd): it writes the identity
 * (st_dev:st_ino) of those that are pipes or sockets into CTXSHIM_LOG_PIPES,
 * which every child inherits through the CTXSHIM_* carry (init.c), even
 * across `env -i`.  A pipe made inside the tree has another inode.
 *
 * Cost: fds 1 and 2 start (and return after a dup2 onto them) as FD_LOGQ;
 * the first line on one calls log_fd_decide: fstat, getpeername for a
 * socket, then FD_LOG or nothing is stored and later writes test the bits as
 * before.  Only system calls and an atomic store: the write path may run in
 * a signal handler.
 */
#include "fdkind.h"
#include "hooks.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct fk_id outer[FK_MAX];
static int nouter;
/* "CTXSHIM_LOG_PIPES=" and the list: in the carry list of the first
 * process, so it must live as long as the process. */
static char marker[sizeof FK_VAR + FK_TEXT];

static int id_of(int fd, struct fk_id *id, mode_t *mode)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	id->dev = (unsigned long long)st.st_dev;
	id->ino = (unsigned long long)st.st_ino;
	*mode = st.st_mode;
	return 0;
}

void log_fdkind_init(void)
{
	/* In a secure-execution process no variable is trusted: no list, so
	 * every pipe and socket is data there. */
	if (ctx_cfg.secure)
		return;
	const char *v = ctx_getenv(FK_VAR);
	if (v) {
		nouter = fk_parse(v, outer, FK_MAX);
		return;
	}
	for (int fd = 1; fd <= 2; fd++) {
		struct fk_id id;
		mode_t mode;
		if (id_of(fd, &id, &mode) == 0 && fk_kind(mode) == FK_STREAM &&
		    !fk_has(outer, nouter, id))
			outer[nouter++] = id;
	}
	size_t n = sizeof FK_VAR;
	memcpy(marker, FK_VAR "=", n);
	fk_format(marker + n, sizeof marker - n, outer, nouter);
	ctx_carry_add(marker);
}

static int journald_peer(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof sa;
	memset(&sa, 0, sizeof sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path))
		return 0;
	len -= (socklen_t)offsetof(struct sockaddr_un, sun_path);
	return fk_is_journald(sa.sun_path, len > sizeof sa.sun_path ? sizeof sa.sun_path : len);
}

static int is_log(int fd)
{
	struct fk_id id;
	mode_t mode;
	if (id_of(fd, &id, &mode) != 0)
		return 0;
	switch (fk_kind(mode)) {
	case FK_LOG:
		return 1;
	case FK_STREAM:
		return fk_has(outer, nouter, id) || (S_ISSOCK(mode) && journald_peer(fd));
	default:
		return 0;
	}
}

int log_fd_decide(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX)
		return 0;
	KEEP_ERRNO;
	int log = is_log(fd);
	/* Only an undecided fd changes: a close or dup2 meanwhile in another
	 * thread has set what the fd is now. */
	uint8_t old = atomic_load_explicit(&fdtab[fd], memory_order_relaxed);
	while (old & FD_LOGQ) {
		uint8_t nw = (uint8_t)((old & ~(FD_LOGQ | FD_LOG)) | (log ? FD_LOG : 0));
		if (atomic_compare_exchange_weak_explicit(&fdtab[fd], &old, nw,
							  memory_order_relaxed,
							  memory_order_relaxed))
			break;
	}
	RESTORE_ERRNO;
	return log;
}
