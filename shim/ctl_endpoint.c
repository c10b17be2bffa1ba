/*
 * ctl_endpoint.c: where a process's control socket lives, and how it is
 * made and removed.
 *
 * The directory is private to the effective user: CTXSHIM_CONTROL_DIR if
 * set, else $XDG_RUNTIME_DIR/ctxshim, else /tmp/ctxshim-<euid>.  It is made
 * with mode 0700 and used only if it is a real directory (not a symlink),
 * owned by the effective uid, with no access for group or others: /tmp is
 * shared, and someone else could have made the name first.
 *
 * The socket is named <pid>.sock.  It is bound under a temporary name,
 * chmod'ed to 0600 and set listening before rename() puts it in place, so a
 * client never finds a socket that is half made or not yet listening; the
 * rename also replaces whatever a killed process of the same pid left.
 *
 * The checks the listener repeats (fstat, lstat) and the unlink at exit are
 * system calls made directly (ctl.h): they must not go through a library
 * preloaded after the shim, which may be torn down by then.
 */
#include "ctl.h"

#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SUN_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))

/* DIR is usable: a directory of ours that nobody else can enter. */
static int dir_ok(const char *dir)
{
	struct stat st;
	return ctl_sys_lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       (st.st_mode & 077) == 0;
}

static int dir_make(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	return dir_ok(dir) ? 0 : -1;
}

/* The settings, copied at start-up: programs rewrite their environment
 * (nginx empties it in its workers), and an endpoint made later, in a
 * forked child or anew, must go to the same place. */
static char dir_env[96], xdg_env[96];
static int dir_set, xdg_set;

void ctl_ep_settings(void)
{
	const char *d = ctx_getenv("CTXSHIM_CONTROL_DIR");
	const char *x = ctx_getenv("XDG_RUNTIME_DIR");
	if (d && *d) {
		dir_set = 1;
		if (strlen(d) < sizeof dir_env)
			strcpy(dir_env, d);    /* else left empty: refused below */
	}
	if (x && x[0] == '/' && strlen(x) < sizeof xdg_env) {
		xdg_set = 1;
		strcpy(xdg_env, x);
	}
}

/* The directory for this process's socket into OUT. */
static int choose_dir(char *out, size_t cap, const char **why)
{
	if (dir_set) {
		if (dir_env[0] != '/' || (size_t)snprintf(out, cap, "%s", dir_env) >= cap) {
			*why = "CTXSHIM_CONTROL_DIR must be an absolute path of at most 80 bytes";
			return -1;
		}
		if (dir_make(out) < 0) {
			*why = "CTXSHIM_CONTROL_DIR is not a directory of ours with mode 0700";
			return -1;
		}
		return 0;
	}
	struct stat st;
	if (xdg_set && ctl_sys_lstat(xdg_env, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (size_t)snprintf(out, cap, "%s/ctxshim", xdg_env) < cap &&
	    dir_make(out) == 0)
		return 0;
	snprintf(out, cap, "/tmp/ctxshim-%u", (unsigned)geteuid());
	if (dir_make(out) < 0) {
		*why = "/tmp/ctxshim-<uid> is not a directory of ours with mode 0700";
		return -1;
	}
	return 0;
}

int ctl_fd_high(int fd)
{
	static int floor;
	if (!floor) {
		struct rlimit rl;
		int f = 600;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
			f = (int)rl.rlim_cur / 2;
		floor = f > 3 ? f : 3;
	}
	if (fd < 0 || fd >= floor)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, floor);
	if (nfd < 0)
		return fd;
	REAL(close)(fd);
	return nfd;
}

int ctl_ep_create(struct ctl_ep *ep, const char **why)
{
	char dir[84], id[33];
	struct sockaddr_un tmp = { .sun_family = AF_UNIX };
	struct stat st;
	pid_t pid = ctl_getpid();

	ep->fd = -1;
	if (choose_dir(dir, sizeof dir, why) < 0)
		return -1;
	ctx_new_id(id);
	if (snprintf(tmp.sun_path, SUN_MAX, "%s/.%d.%.12s.tmp", dir, (int)pid, id) >= SUN_MAX ||
	    snprintf(ep->path, sizeof ep->path, "%s/%d.sock", dir, (int)pid) >= SUN_MAX) {
		*why = "socket path too long";
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "socket() failed";
		return -1;
	}
	*why = "cannot bind the socket";
	if (bind(fd, (struct sockaddr *)&tmp, sizeof tmp) < 0)
		goto fail_close;
	if (chmod(tmp.sun_path, 0600) < 0 || listen(fd, 128) < 0 ||
	    rename(tmp.sun_path, ep->path) < 0)
		goto fail_unlink;
	fd = ctl_fd_high(fd);
	if (ctl_sys_fstat(fd, &st) < 0)
		goto fail_close;
	ep->fd_dev = st.st_dev;
	ep->fd_ino = st.st_ino;
	ep->path_ino = ctl_sys_lstat(ep->path, &st) == 0 ? st.st_ino : 0;
	ep->owner = pid;
	ep->fd = fd;
	return 0;

fail_unlink:
	unlink(tmp.sun_path);
fail_close:
	REAL(close)(fd);
	return -1;
}

int ctl_ep_fd_ok(const struct ctl_ep *ep)
{
	struct stat st;
	return ep->fd >= 0 && ctl_sys_fstat(ep->fd, &st) == 0 && st.st_dev == ep->fd_dev &&
	       st.st_ino == ep->fd_ino;
}

int ctl_ep_path_ok(const struct ctl_ep *ep)
{
	struct stat st;
	if (ctl_sys_lstat(ep->path, &st) < 0)
		/* A process that dropped privileges may no longer look into
		 * the directory: only a name that is gone is known to be gone. */
		return errno != ENOENT && errno != ENOTDIR;
	return S_ISSOCK(st.st_mode) && st.st_ino == ep->path_ino;
}

void ctl_ep_unlink(const struct ctl_ep *ep)
{
	if (ep->fd >= 0 && ep->owner == ctl_getpid() && ctl_ep_path_ok(ep))
		syscall(SYS_unlinkat, AT_FDCWD, ep->path, 0);
}

/* The pid a directory entry belongs to: "<pid>.sock" or ".<pid>.*.tmp";
 * 0 for anything else.  *TMP says which. */
static pid_t entry_pid(const char *name, int *tmp)
{
	char *end;
	*tmp = name[0] == '.';
	const char *p = name + *tmp;
	if (*p < '1' || *p > '9')
		return 0;
	long pid = strtol(p, &end, 10);
	if (pid <= 0 || pid > 0x7fffffff)
		return 0;
	if (*tmp) {
		size_t n = strlen(end);
		return *end == '.' && n > 5 && !strcmp(end + n - 4, ".tmp") ? (pid_t)pid : 0;
	}
	return !strcmp(end, ".sock") ? (pid_t)pid : 0;
}

void ctl_ep_sweep(const struct ctl_ep *ep)
{
	char dir[sizeof ep->path];
	snprintf(dir, sizeof dir, "%s", ep->path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		REAL(close)(dfd);
		return;
	}
	struct dirent *e;
	int seen = 0, tmp;
	pid_t self = ctl_getpid();
	while ((e = readdir(d)) && seen++ < 4096) {
		pid_t pid = entry_pid(e->d_name, &tmp);
		if (!pid || (pid == self && !tmp))
			continue;
		/* Our own temporary names are left from an image this pid ran
		 * before exec (ours is already in place). */
		if (pid == self || (kill(pid, 0) < 0 && errno == ESRCH))
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}
