/*
 * proc.c: fork, the exec family and posix_spawn.
 *
 * A started program inherits the calling thread's context through BAGGAGE in
 * a new environment array (childenv_make); fork needs nothing for copy mode,
 * since the child's memory already holds the forking thread's context.
 */
#include "childenv.h"
#include "core.h"
#include "envp.h"
#include "hooks.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

extern char **environ;

void shell_fork_child(void);

/* 1 when ENVP already gives a child everything: no context to carry, no
 * stale BAGGAGE, the shim preloaded, every CTXSHIM_* setting present. */
int childenv_is_right(char *const envp[])
{
	if (!ctx_is_empty() || envp_get(envp, "BAGGAGE"))
		return 0;
	if (ctx_cfg.self_path && !envp_preload_has(envp_get(envp, "LD_PRELOAD"), ctx_cfg.self_path))
		return 0;
	for (const char *const *c = ctx_cfg.carry; c && *c; c++) {
		size_t len = strcspn(*c, "=");
		int found = 0;
		for (size_t i = 0; envp && envp[i] && !found; i++)
			found = strncmp(envp[i], *c, len + 1) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

char *const *childenv_make(struct childenv *ce, char *const envp[])
{
	const char *bag_kv = NULL, *preload_kv = NULL;
	KEEP_ERRNO;

	ce->mapped = NULL;
	if (childenv_is_right(envp))
		return envp;

	/* Measure: the Baggage, the LD_PRELOAD string, the array. */
	ssize_t bag = ctx_baggage_size();   /* -1: unreadable now, keep BAGGAGE */
	const char *self = ctx_cfg.self_path;
	const char *cur = envp_get(envp, "LD_PRELOAD");
	size_t pre = self && !envp_preload_has(cur, self)
		     ? 12 + (cur ? strlen(cur) : 0) + strlen(self) + 1 : 0;
	size_t text = (bag > 0 ? 8 + (size_t)bag + 1 : 0) + pre;
	size_t slots = envp_count(envp) + 3 + 33;

	char *t = ce->text;
	char **out = ce->slots;
	if (text > CHILDENV_TEXT || slots > CHILDENV_SLOTS) {
		ce->mapped_len = text + slots * sizeof(char *);
		void *p = mmap(NULL, ce->mapped_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			ce->mapped = NULL;
			RESTORE_ERRNO;
			return envp;
		}
		ce->mapped = p;
		out = p;
		t = (char *)p + slots * sizeof(char *);
	}
	if (bag > 0) {
		memcpy(t, "BAGGAGE=", 8);
		ssize_t n = ctx_baggage(t + 8, (size_t)bag + 1);
		if (n > 0) {
			bag_kv = t;
			t += 8 + n + 1;
		}
	}
	if (pre)
		preload_kv = envp_preload_kv(t, pre, cur, self);
	ssize_t r = envp_build(out, out == ce->slots ? CHILDENV_SLOTS : slots, envp, bag_kv,
			       bag >= 0, preload_kv, ctx_cfg.carry);
	RESTORE_ERRNO;
	return r >= 0 ? out : envp;
}

void childenv_done(struct childenv *ce)
{
	KEEP_ERRNO;
	if (ce->mapped)
		munmap(ce->mapped, ce->mapped_len);
	ce->mapped = NULL;
	RESTORE_ERRNO;
}

CTX_EXPORT pid_t fork(void)
{
	struct cmap *snap = NULL;
	if (!ctx_should_act())
		return REAL(fork)();
	KEEP_ERRNO;
	/* share/chain: other threads' boxes may be locked at the moment of the
	 * fork, so take the view now, in the parent. */
	if (ctx_cfg.mode != CTX_COPY)
		ctx_snapshot(&snap);
	RESTORE_ERRNO;
	pid_t pid = REAL(fork)();
	int err = errno;
	if (pid == 0) {
		ctx_fork_child(snap);
		shell_fork_child();
	} else {
		cmap_unref(snap);
	}
	errno = err;
	return pid;
}

/* glibc's fork without atfork handlers: the child is a process of its own
 * all the same (its memory is a copy), so it must know its pid (core.h). */
CTX_EXPORT pid_t _Fork(void)
{
	pid_t pid = REAL(_Fork)();
	if (pid == 0) {
		int err = errno;
		ctx_pid_set();
		errno = err;
	}
	return pid;
}

/* Run EXEC with a child environment built from ENVP; return its failure. */
#define WITH_CHILD_ENV(envp, call)                              \
	do {                                                    \
		struct childenv ce_;                            \
		char *const *env_ = childenv_make(&ce_, envp);  \
		int r_ = call;                                  \
		childenv_done(&ce_);                            \
		return r_;                                      \
	} while (0)

CTX_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (!ctx_should_act())
		return REAL(execve)(path, argv, envp);
	WITH_CHILD_ENV(envp, REAL(execve)(path, argv, env_));
}

CTX_EXPORT int execv(const char *path, char *const argv[])
{
	if (!ctx_should_act())
		return REAL(execv)(path, argv);
	WITH_CHILD_ENV(environ, REAL(execve)(path, argv, env_));
}

CTX_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!ctx_should_act())
		return REAL(execvpe)(file, argv, envp);
	WITH_CHILD_ENV(envp, REAL(execvpe)(file, argv, env_));
}

CTX_EXPORT int execvp(const char *file, char *const argv[])
{
	if (!ctx_should_act())
		return REAL(execvp)(file, argv);
	WITH_CHILD_ENV(environ, REAL(execvpe)(file, argv, env_));
}

CTX_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!ctx_should_act())
		return REAL(fexecve)(fd, argv, envp);
	WITH_CHILD_ENV(envp, REAL(fexecve)(fd, argv, env_));
}

CTX_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
			char *const envp[], int flags)
{
	if (!ctx_should_act())
		return REAL(execveat)(dirfd, path, argv, envp, flags);
	WITH_CHILD_ENV(envp, REAL(execveat)(dirfd, path, argv, env_, flags));
}

/* execl and friends: gather the variadic list into an array on the stack. */
#define GATHER_ARGS(arg0, ap, argv, envp_out)                           \
	size_t n_ = 1;                                                  \
	va_start(ap, arg0);                                             \
	while (va_arg(ap, char *))                                      \
		n_++;                                                   \
	va_end(ap);                                                     \
	char *argv[n_ + 1];                                             \
	va_start(ap, arg0);                                             \
	argv[0] = (char *)arg0;                                         \
	for (size_t i_ = 1; i_ <= n_; i_++)                             \
		argv[i_] = va_arg(ap, char *);                          \
	envp_out;                                                       \
	va_end(ap)

CTX_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	GATHER_ARGS(arg0, ap, argv, (void)0);
	return execve(path, argv, environ);
}

CTX_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	GATHER_ARGS(arg0, ap, argv, (void)0);
	return execvpe(file, argv, environ);
}

CTX_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	char *const *envp;
	GATHER_ARGS(arg0, ap, argv, envp = va_arg(ap, char *const *));
	return execve(path, argv, envp);
}

CTX_EXPORT int posix_spawn(pid_t *pid, const char *path,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	if (!ctx_should_act())
		return REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	WITH_CHILD_ENV(envp, REAL(posix_spawn)(pid, path, fa, attr, argv, env_));
}

CTX_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	if (!ctx_should_act())
		return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
	WITH_CHILD_ENV(envp, REAL(posix_spawnp)(pid, file, fa, attr, argv, env_));
}
