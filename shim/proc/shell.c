/*
 * shell.c: system, popen and pclose.
 *
 * glibc's own system() and popen() start the shell through an internal
 * posix_spawn with the process's environ, out of our reach.  We start
 * /bin/sh ourselves the way POSIX describes (signals for system, the stream
 * table for popen), with a child environment: system() only when environ
 * would give the child the wrong context, popen() always (one stream table).
 */
#include "childenv.h"
#include "core.h"
#include "envp.h"
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int spawn_sh(pid_t *pid, const char *cmd, posix_spawn_file_actions_t *fa,
		    posix_spawnattr_t *attr)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct childenv ce;
	char *const *env = childenv_make(&ce, environ);
	int rc = REAL(posix_spawn)(pid, "/bin/sh", fa, attr, argv, env);
	childenv_done(&ce);
	return rc;
}

/* ---- system ---------------------------------------------------------- */

/* Concurrent system() calls share one SIGINT/SIGQUIT disposition change. */
static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static int sys_users;
static struct sigaction sys_old_int, sys_old_quit;

CTX_EXPORT int system(const char *cmd)
{
	if (!cmd || !ctx_should_act() || childenv_is_right(environ))
		return REAL(system)(cmd);

	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t block, old_mask;
	pid_t pid;
	int status = -1;

	sigemptyset(&ign.sa_mask);
	pthread_mutex_lock(&sys_lock);
	if (sys_users++ == 0) {
		sigaction(SIGINT, &ign, &sys_old_int);
		sigaction(SIGQUIT, &ign, &sys_old_quit);
	}
	pthread_mutex_unlock(&sys_lock);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old_mask);

	/* The shell gets default SIGINT/SIGQUIT (unless they were ignored
	 * before) and the caller's signal mask. */
	posix_spawnattr_t attr;
	sigset_t defaults;
	sigemptyset(&defaults);
	if (sys_old_int.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGINT);
	if (sys_old_quit.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setsigmask(&attr, &old_mask);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	int rc = spawn_sh(&pid, cmd, NULL, &attr);
	posix_spawnattr_destroy(&attr);
	if (rc == 0) {
		while (REAL(waitpid)(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				status = -1;
				break;
			}
		}
	} else {
		status = 127 << 8;   /* what a shell that cannot run reports */
	}

	int err = errno;
	pthread_mutex_lock(&sys_lock);
	if (--sys_users == 0) {
		sigaction(SIGINT, &sys_old_int, NULL);
		sigaction(SIGQUIT, &sys_old_quit, NULL);
	}
	pthread_mutex_unlock(&sys_lock);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	errno = err;
	return status;
}

/* ---- popen / pclose -------------------------------------------------- */

/* The streams we opened, so pclose can wait for the right child and later
 * children do not inherit earlier pipes (as POSIX asks of popen). */
struct piped {
	FILE *fp;
	int fd;
	pid_t pid;
	struct piped *next;
};
static pthread_mutex_t pipe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct piped *pipes;

void shell_fork_child(void)
{
	/* Another thread may have held these in the parent. */
	pthread_mutex_init(&pipe_lock, NULL);
	pthread_mutex_init(&sys_lock, NULL);
}

CTX_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	/* Always ours while the shim is on, even with nothing to carry: the
	 * streams of libc's popen and ours would not know of each other, and
	 * each child must close the other's pipes (a pclose would hang). */
	if (!cmd || !mode || !ctx_should_act())
		return REAL(popen)(cmd, mode);
	int reading = mode[0] == 'r';
	int cloexec = strchr(mode, 'e') != NULL;
	if ((mode[0] != 'r' && mode[0] != 'w') || strspn(mode + 1, "e") != strlen(mode + 1)) {
		errno = EINVAL;
		return NULL;
	}
	struct piped *p = malloc(sizeof *p);
	int fds[2];
	if (!p)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(p);
		return NULL;
	}
	int mine = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
	int target = reading ? 1 : 0;
	if (theirs == target) {
		/* The pipe landed on the very fd the child needs: rare enough
		 * (stdin or stdout closed) to leave to libc. */
		REAL(close)(fds[0]);
		REAL(close)(fds[1]);
		free(p);
		return REAL(popen)(cmd, mode);
	}

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, theirs, target);
	pthread_mutex_lock(&pipe_lock);
	for (struct piped *q = pipes; q; q = q->next)
		if (q->fd != target)
			posix_spawn_file_actions_addclose(&fa, q->fd);
	int rc = spawn_sh(&p->pid, cmd, &fa, NULL);
	posix_spawn_file_actions_destroy(&fa);
	REAL(close)(theirs);
	FILE *fp = NULL;
	if (rc == 0) {
		if (!cloexec)
			fcntl(mine, F_SETFD, 0);
		fp = fdopen(mine, reading ? "r" : "w");
	}
	if (fp) {
		p->fp = fp;
		p->fd = mine;
		p->next = pipes;
		pipes = p;
	}
	pthread_mutex_unlock(&pipe_lock);
	if (!fp) {
		int err = rc ? rc : errno;
		if (rc == 0)
			REAL(waitpid)(p->pid, NULL, 0);
		REAL(close)(mine);
		free(p);
		errno = err;
	}
	return fp;
}

CTX_EXPORT int pclose(FILE *fp)
{
	struct piped **pp, *p = NULL;
	pthread_mutex_lock(&pipe_lock);
	for (pp = &pipes; *pp; pp = &(*pp)->next) {
		if ((*pp)->fp == fp) {
			p = *pp;
			*pp = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&pipe_lock);
	if (!p)
		return REAL(pclose)(fp);
	int status;
	pid_t pid = p->pid;
	free(p);
	fclose(fp);
	pid_t r;
	do {
		r = REAL(waitpid)(pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : status;
}
