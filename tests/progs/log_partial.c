/*
 * log_partial: writes LINES lines of varying length (up to 6000 bytes) to
 * stderr, where stderr is a socket to a slow reader (a child that prints
 * what it receives on stdout), doing what a careful program does with
 * short writes: write the rest.
 *
 *   log_partial nonblock LINES   stderr non-blocking: EAGAIN, then poll
 *   log_partial eintr LINES      blocking, a 1 ms timer without SA_RESTART:
 *                                EINTR and short writes
 *   ... LINES given              stderr as given (a slow reader's socket
 *                                set up by whoever started us); the counts
 *                                go to stdout
 *
 * Line i is "L<i> " followed by (i * 397) % 6000 + 1 letters.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static long interrupted, shorts, again;

static void on_alarm(int sig)
{
	(void)sig;
}

static void reader(int fd)
{
	char buf[700];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		if (write(1, buf, (size_t)r) != r)
			_exit(71);
		usleep(50);   /* slower than the writer */
	}
	_exit(0);
}

static void write_all(const char *p, size_t n, int use_writev)
{
	while (n) {
		ssize_t r;
		if (use_writev) {
			/* the line in two pieces, in one writev */
			size_t half = n / 2;
			struct iovec v[2] = { { (void *)p, half }, { (void *)(p + half), n - half } };
			r = writev(2, v, 2);
		} else {
			r = write(2, p, n);
		}
		if (r < 0 && errno == EINTR) {
			interrupted++;
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			again++;
			struct pollfd pfd = { 2, POLLOUT, 0 };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (r <= 0)
			exit(72);
		if ((size_t)r < n)
			shorts++;
		p += r;
		n -= (size_t)r;
	}
}

int main(int argc, char **argv)
{
	int sv[2];
	int nonblock = argc > 1 && !strcmp(argv[1], "nonblock");
	int lines = argc > 2 ? atoi(argv[2]) : 300;
	int given = argc > 3 && !strcmp(argv[3], "given");
	pid_t pid = -1;
	int saved_err = -1;
	if (!given) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return 70;
		int small = 4096;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			reader(sv[1]);
		}
		close(sv[1]);
		saved_err = dup(2);
		dup2(sv[0], 2);
		close(sv[0]);
	}
	if (nonblock) {
		fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
	} else {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;   /* no SA_RESTART: writes fail with EINTR */
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
		setitimer(ITIMER_REAL, &it, NULL);
	}
	char *line = malloc(7000);
	for (int i = 0; i < lines; i++) {
		int len = sprintf(line, "L%d ", i);
		int body = (i * 397) % 6000 + 1;
		for (int k = 0; k < body; k++)
			line[len++] = (char)('a' + (i + k) % 26);
		line[len++] = '\n';
		write_all(line, (size_t)len, i % 3 == 2);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	close(2);
	if (given) {
		printf("eintr=%ld short=%ld eagain=%ld\n", interrupted, shorts, again);
		return 0;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	dup2(saved_err, 2);
	fprintf(stderr, "eintr=%ld short=%ld eagain=%ld\n", interrupted, shorts, again);
	return 0;
}
