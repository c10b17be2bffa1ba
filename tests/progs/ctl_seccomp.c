/*
 * ctl_seccomp.c: a process that forks a child which sandboxes itself the way
 * sshd's pre-authentication child does (a seccomp filter that kills a thread
 * calling unlink or unlinkat), or whose main thread otherwise ends before
 * the process.  The parent waits for the child and says how it ended:
 * "child exited N" or "child killed by signal N".  Every child first makes
 * one poll() call, as any server's child would, and prints "child PID".
 *
 *   ctl_seccomp prctl    prctl(PR_SET_NO_NEW_PRIVS), prctl(PR_SET_SECCOMP),
 *                        then exit(0)
 *   ctl_seccomp syscall  the seccomp() system call without no_new_privs
 *                        (needs CAP_SYS_ADMIN), then exit(0)
 *   ctl_seccomp tsync    the same with SECCOMP_FILTER_FLAG_TSYNC: the filter
 *                        holds for every thread of the child
 *   ctl_seccomp leader   the seccomp() call with a filter that also kills a
 *                        thread calling getppid, then getppid(): the main
 *                        thread dies, killed by SIGSYS
 *   ctl_seccomp pexit    no filter: the main thread starts a thread and
 *                        calls pthread_exit; the thread prints "worker
 *                        done" and returns (glibc then ends the process
 *                        with status 0)
 *
 * The filter is written with linux/seccomp.h and linux/filter.h only.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "no audit arch for this machine"
#endif

#ifndef __NR_unlink
#define __NR_unlink __NR_unlinkat   /* arm64 has unlinkat only */
#endif

/* Kill the calling thread on unlink, unlinkat and (WITH_GETPPID) getppid;
 * allow everything else. */
static struct sock_fprog filter(int with_getppid)
{
	static struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlink, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlinkat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff /* set below */, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
	};
	f[6].k = with_getppid ? __NR_getppid : 0xffffffff;
	struct sock_fprog p = { .len = sizeof f / sizeof f[0], .filter = f };
	return p;
}

static void *worker(void *arg)
{
	(void)arg;
	printf("worker done\n");
	fflush(stdout);
	return NULL;
}

static void child(const char *mode)
{
	struct sock_fprog prog = filter(!strcmp(mode, "leader"));
	printf("child %d\n", (int)getpid());
	fflush(stdout);
	poll(NULL, 0, 0);
	if (!strcmp(mode, "prctl")) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
			perror("prctl");
			_exit(3);
		}
	} else if (!strcmp(mode, "syscall") || !strcmp(mode, "tsync") || !strcmp(mode, "leader")) {
		unsigned flags = !strcmp(mode, "tsync") ? SECCOMP_FILTER_FLAG_TSYNC : 0;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
			perror("seccomp");
			_exit(3);
		}
		if (!strcmp(mode, "leader"))
			syscall(SYS_getppid);    /* the main thread dies here */
	} else if (!strcmp(mode, "pexit")) {
		pthread_t th;
		if (pthread_create(&th, NULL, worker, NULL) != 0)
			_exit(3);
		pthread_exit(NULL);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		_exit(2);
	}
	exit(0);
}

int main(int argc, char **argv)
{
	int st;
	if (argc < 2) {
		fprintf(stderr, "usage: ctl_seccomp prctl|syscall|tsync|leader|pexit\n");
		return 2;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		child(argv[1]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		printf("child exited %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("child killed by signal %d\n", WTERMSIG(st));
	return 0;
}
