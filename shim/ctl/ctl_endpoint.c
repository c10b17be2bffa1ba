/*
 * ctl_endpoint.c: where a process's control socket lives, and how it is
 * made and removed.
 *
 * The directory is private to the effective user: CTXSHIM_CONTROL_DIR if
 * set, else the first usable of $XDG_RUNTIME_DIR/ctxshim,
 * /run/user/<euid>/ctxshim, /tmp/ctxshim-<euid> and a fallback next to it
 * (choose_dir).  It is made with mode 0700 and used only if it is a real
 * directory (not a symlink), owned by the effective uid, with no access for
 * group or others: /tmp is shared, and someone else could have made the
 * name first.
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

/* PARENT/ctxshim into OUT, made if missing, when PARENT is a directory of
 * ours closed to others (one nobody else can have made for us). */
static int under_private(const char *parent, char *out, size_t cap)
{
	return dir_ok(parent) && (size_t)snprintf(out, cap, "%s/ctxshim", parent) < cap &&
	       dir_make(out) == 0 ? 0 : -1;
}

/* NAME is 6 letters or digits (what mkdtemp makes, what ctxctl looks for). */
static int six_alnum(const char *name)
{
	int n = 0;
	for (; *name; name++, n++)
		if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		      (*name >= '0' && *name <= '9')))
			return 0;
	return n == 6;
}

/* /tmp/ctxshim-<euid> belongs to someone else (anyone may make a name in
 * /tmp first): the fallback is /tmp/ctxshim-<euid>.XXXXXX, a name nobody can
 * guess.  An existing one of ours is used (the first in name order, which
 * ctxctl tries in the same order); else one is made, and only the process
 * that makes it warns, so a uid is warned once and not by every process.
 * The choice is kept: a forked child or a new endpoint goes to the same. */
static char fallback[64];

static int tmp_fallback(char *out, size_t cap, const char *taken)
{
	char prefix[32], best[64] = "";
	if (fallback[0] && dir_ok(fallback))
		return snprintf(out, cap, "%s", fallback) < (int)cap ? 0 : -1;
	size_t pl = (size_t)snprintf(prefix, sizeof prefix, "ctxshim-%u.", (unsigned)geteuid());
	DIR *d = opendir("/tmp");
	struct dirent *e;
	int seen = 0;
	while (d && (e = readdir(d)) && seen++ < 100000) {
		char path[sizeof best];
		if (strncmp(e->d_name, prefix, pl) || !six_alnum(e->d_name + pl) ||
		    (best[0] && strcmp(e->d_name, best + 5) >= 0) ||
		    snprintf(path, sizeof path, "/tmp/%s", e->d_name) >= (int)sizeof path)
			continue;
		if (dir_ok(path))
			strcpy(best, path);
	}
	if (d)
		closedir(d);
	if (!best[0]) {
		memcpy(best, "/tmp/", 5);
		memcpy(best + 5, prefix, pl);
		memcpy(best + 5 + pl, "XXXXXX", 7);
		if (!mkdtemp(best) || !dir_ok(best))
			return -1;
		ctx_warn("CTXSHIM_CONTROL: %s is not a private directory of uid %u (someone "
			 "else made it?); endpoints of this uid go to %s", taken,
			 (unsigned)geteuid(), best);
	}
	strcpy(fallback, best);
	return snprintf(out, cap, "%s", best) < (int)cap ? 0 : -1;
}

/* The directory for this process's socket into OUT: CTXSHIM_CONTROL_DIR,
 * else the first that works of $XDG_RUNTIME_DIR/ctxshim and
 * /run/user/<euid>/ctxshim (each only under a parent that is ours with mode
 * 0700), /tmp/ctxshim-<euid>, its fallback.  ctxctl looks in the same order. */
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
	char run[32];
	snprintf(run, sizeof run, "/run/user/%u", (unsigned)geteuid());
	if ((xdg_set && under_private(xdg_env, out, cap) == 0) ||
	    under_private(run, out, cap) == 0)
		return 0;
	snprintf(out, cap, "/tmp/ctxshim-%u", (unsigned)geteuid());
	if (dir_make(out) == 0)
		return 0;
	char taken[32];
	snprintf(taken, sizeof taken, "/tmp/ctxshim-%u", (unsigned)geteuid());
	if (tmp_fallback(out, cap, taken) < 0) {
		*why = "neither /tmp/ctxshim-<uid> nor a fallback is a directory of ours "
		       "with mode 0700";
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
	int dfd = REAL(open)(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
