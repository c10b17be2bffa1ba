/*
 * ctl_lazy.c: a process that forks a child which takes orders from a FIFO,
 * one word a line, read with plain blocking read() calls:
 *
 *   poll     one poll() call with no fd (an event loop's first turn);
 *            prints "polled"
 *   exit     exit(0)
 *
 * The child prints "child PID" before its first read.  The parent waits for
 * it, prints "child done" and exits.
 *
 *   ctl_lazy FIFO
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	char line[64];
	int st;
	if (argc < 2) {
		fprintf(stderr, "usage: ctl_lazy FIFO\n");
		return 2;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		printf("child %d\n", (int)getpid());
		fflush(stdout);
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			_exit(1);
		while (read_line(fd, line, sizeof line) == 0) {
			if (!strcmp(line, "poll")) {
				poll(NULL, 0, 0);
				printf("polled\n");
				fflush(stdout);
			} else if (!strcmp(line, "exit")) {
				exit(0);
			}
		}
		exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	printf("child done\n");
	fflush(stdout);
	return 0;
}
