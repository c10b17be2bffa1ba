/*
 * net_vfork.c: a server with a watched connection and a log file starts a
 * child between two keep-alive requests.  The child changes its own fds
 * before exec, as Python's subprocess (vfork) and posix_spawn's file actions
 * do; the parent's connection and log must stay as they were.
 *
 *   net_vfork LOGFILE METHOD [trap]
 *   METHOD: vfork     vfork; the child calls close, dup2, dup3, open (of
 *                     LOGFILE), closefrom, close_range on the connection
 *                     and the log, then execs /bin/true
 *           spawn     posix_spawn with file actions (addclose, adddup2,
 *                     addclosefrom_np)
 *           rawfork   a fork by raw system call (no atfork handlers): the
 *                     child has memory of its own, so closing the log fd
 *                     there must forget it; the child reopens the number
 *                     for LOGFILE.data, whose bytes must land as written
 *   trap: the vforked child arms libnomalloc's nomalloc_armed (found with
 *         dlsym) first: an allocation or free there exits 99.
 *
 * Each request carries X-Request-ID r1, r2; prints "r1 echoed: yes|no" and
 * the same for r2, and writes "before" and "after" lines to LOGFILE.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One request and its response on the connection (CL client side, S the
 * accepted side); 1 when the response the client got carries the id. */
static int round_trip(int cl, int s, const char *id)
{
	char req[128], buf[1024];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	int n = snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n", id, id);
	if (write(cl, req, (size_t)n) != n || read(s, buf, sizeof buf) <= 0)
		return -1;
	if (write(s, resp, sizeof resp - 1) != (ssize_t)(sizeof resp - 1))
		return -1;
	size_t len = 0;
	while (len < sizeof buf - 1 && !memmem(buf, len, "\r\n\r\nok", 6)) {
		ssize_t r = read(cl, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			return -1;
		len += (size_t)r;
	}
	buf[len] = '\0';
	char want[64];
	snprintf(want, sizeof want, "X-Request-ID: %s\r\n", id);
	return strstr(buf, want) != NULL;
}

static int run_vfork(int s, int logfd, const char *log, volatile int *armed)
{
	char *argv[] = { "/bin/true", NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		if (armed)
			*armed = 1;
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		close(s);
		dup2(nul, logfd);
		dup3(nul, s, O_CLOEXEC);
		dup2(nul, 2);
		open(log, O_WRONLY | O_APPEND);   /* a log file's path */
		closefrom(3);
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		close_range(3, ~0U, 0);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (armed)
		*armed = 0;
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int run_spawn(int s, int logfd)
{
	char *argv[] = { "/bin/true", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, s);
	posix_spawn_file_actions_addopen(&fa, s, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, s, logfd);
	posix_spawn_file_actions_adddup2(&fa, s, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int st;
	if (r != 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int run_rawfork(int logfd, const char *log)
{
	char data[4096];
	snprintf(data, sizeof data, "%s.data", log);
	pid_t pid = (pid_t)syscall(SYS_fork);
	if (pid == 0) {
		close(logfd);
		int f = open(data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (f != logfd)
			_exit(3);
		_exit(write(f, "data\n", 5) == 5 ? 0 : 4);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	volatile int *armed = NULL;
	if (argc > 3 && !strcmp(argv[3], "trap"))
		armed = dlsym(RTLD_DEFAULT, "nomalloc_armed");

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		return 1;
	int cl = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cl, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	int s = accept(ls, NULL, NULL);
	int logfd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (s < 0 || logfd < 0)
		return 1;

	int e1 = round_trip(cl, s, "r1");
	dprintf(logfd, "before\n");
	int st = !strcmp(argv[2], "spawn")     ? run_spawn(s, logfd)
		 : !strcmp(argv[2], "rawfork") ? run_rawfork(logfd, argv[1])
					       : run_vfork(s, logfd, argv[1], armed);
	if (st != 0) {
		fprintf(stderr, "child: status %d\n", st);
		return 1;
	}
	dprintf(logfd, "after\n");
	int e2 = round_trip(cl, s, "r2");
	if (e1 < 0 || e2 < 0)
		return 1;
	printf("r1 echoed: %s\nr2 echoed: %s\n", e1 ? "yes" : "no", e2 ? "yes" : "no");
	return 0;
}
