/*
 * log_utf8: writes to stderr lines whose UTF-8 is cut across writes, or
 * invalid, or full of control characters; and lines begun through one copy
 * of fd 2 and ended through another, as a shell does.
 *
 *   cutnl    "x" + the lead byte of "é", then a newline: a sequence never
 *            completed
 *   split    "€ ok": the euro sign cut after two of its three bytes
 *   splitv   one writev whose pieces cut "😀" twice
 *   bad      a lead byte, then "A\n": not completed
 *   stdio    fputs pieces cutting "😀" (stderr unbuffered)
 *   c1       a C1 CSI (U+009B) and a raw 0x9b byte in one line
 *   dup      "a" through dup2(2, 1), fd 1 restored, "b\n" through a new
 *            dup2(2, 1): what bash does for printf a >&2; echo b >&2
 *   dupclose "a" through a copy of fd 2 on fd 5, fd 5 closed, "b\n" on fd 2
 *   dupnull  "a" through a copy of fd 2 on fd 5, fd 5 closed, fd 2 replaced
 *            by /dev/null for "hidden\n" and put back, "b\n" on fd 2: fd 2
 *            itself never wrote before it was replaced
 *   dupnonl  "c" through a copy of fd 2 on fd 5, fd 5 closed, then exit
 *            without a newline (fd 2 itself never wrote)
 *   heir     fd 2 copied to fd 5 by dup2, "a" on 2, fd 2 closed, "b\n" on 5,
 *            then fd 5 back on 2
 *   outnonl  on stdout (fully buffered to a file): "one\n", then "partial"
 *            and " more" without a newline, and exit
 *   nonl     "tail" and a cut sequence, then exit without a newline
 *   forknonl "a" with no newline, then a child that exits (exit, not _exit),
 *            then "b\n": the child must not end the parent's line
 *   random N SEED   N writes of random pieces (UTF-8, cut sequences, C0,
 *            C1, invalid bytes, newlines), then a newline; the same bytes
 *            go to stdout, in one piece each, for the checker
 *   partial N SEED RAW   the same through stderr as given (a socket to a
 *            slow reader that whoever started us set up: a socket made here
 *            for a child of ours would be data, never decorated), made
 *            non-blocking with a small send buffer, with some pieces of
 *            over 6,000 bytes: short writes and EAGAIN, the rest written again as a careful program does; the
 *            bytes to RAW, then "short=N eagain=N" to stdout
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void w(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t r = write(fd, s, n);
		if (r <= 0)
			exit(2);
		s += r;
		n -= (size_t)r;
	}
}

static long shorts, again;

/* Write all of P to fd 2, through short writes and EAGAIN. */
static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(2, p, n);
		if (r > 0 && (size_t)r < n)
			shorts++;
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			again += errno == EAGAIN;
			struct pollfd pfd = { 2, POLLOUT, 0 };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (r <= 0)
			exit(72);
		p += r;
		n -= (size_t)r;
	}
}

/* N random pieces to fd 2, each also to COPY (a file, or stdout).  BIG:
 * every 32nd piece repeated to over 6,000 bytes, more than a small socket
 * buffer takes at once, so that writes come back short. */
static void random_pieces(int n, unsigned long x, int copy, int big)
{
	static const char *const units[] = {
		"a", "b c", "\n", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\x9b",
		"\xc2\x85", "\xe2\x80\xa8", "\x1b[1m", "\"", "\\", "\x7f", "\x9b", "\xff",
		"\xc3", "\xe2\x82", "\xf0\x9f", "\xf0\x9f\x98", "\x80", "\xbf", "\xed\xa0\x80",
		"\t", "\r", "=", "x=y", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	};
	char buf[8192];
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		int count = (int)((x >> 33) % 12);
		for (int k = 0; k < count; k++) {
			x = x * 6364136223846793005ul + 1442695040888963407ul;
			const char *u = units[(x >> 33) % (sizeof units / sizeof units[0])];
			size_t l = strlen(u);
			/* sometimes only the start or the end of a unit */
			if (l > 1 && (x >> 20) % 4 == 0)
				l = 1 + (x >> 24) % (l - 1);
			memcpy(buf + len, u, l);
			len += l;
		}
		if (!len)
			continue;
		for (size_t one = len; big && i % 32 == 0 && len < 6000; len += one)
			memcpy(buf + len, buf, one);
		write_all(buf, len);
		if (write(copy, buf, len) != (ssize_t)len)
			exit(73);
	}
	write_all("\n", 1);
	if (write(copy, "\n", 1) != 1)
		exit(73);
}

/* fd 2, a socket to a slow reader, gets a small send buffer and becomes
 * non-blocking. */
static void slow_stderr(void)
{
	int small = 2048;
	setsockopt(2, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *m = argv[i];
		if (!strcmp(m, "cutnl")) {
			w(2, "x\xc3");
			w(2, "\n");
		} else if (!strcmp(m, "split")) {
			w(2, "\xe2\x82");
			w(2, "\xac ok\n");
		} else if (!strcmp(m, "splitv")) {
			struct iovec v[4] = { { "a\xf0\x9f", 3 }, { "\x98", 1 }, { "\x80 b", 3 },
					      { "\n", 1 } };
			if (writev(2, v, 4) != 8)
				return 2;
		} else if (!strcmp(m, "bad")) {
			w(2, "\xe2");
			w(2, "A\n");
		} else if (!strcmp(m, "stdio")) {
			fputs("y\xf0\x9f", stderr);
			fputs("\x98\x80\n", stderr);
		} else if (!strcmp(m, "c1")) {
			w(2, "csi \xc2\x9b[31m and \x9b raw\n");
		} else if (!strcmp(m, "dup")) {
			int saved = fcntl(1, F_DUPFD, 10);
			dup2(2, 1);
			w(1, "a");
			dup2(saved, 1);
			dup2(2, 1);
			w(1, "b\n");
			dup2(saved, 1);
			close(saved);
		} else if (!strcmp(m, "dupclose")) {
			dup2(2, 5);
			w(5, "a");
			close(5);
			w(2, "b\n");
		} else if (!strcmp(m, "dupnull")) {
			dup2(2, 5);
			w(5, "a");
			close(5);
			int saved = fcntl(2, F_DUPFD_CLOEXEC, 10);
			int null = open("/dev/null", O_WRONLY);
			if (saved < 0 || null < 0)
				return 75;
			dup2(null, 2);
			close(null);
			w(2, "hidden\n");
			dup2(saved, 2);
			close(saved);
			w(2, "b\n");
		} else if (!strcmp(m, "dupnonl")) {
			dup2(2, 5);
			w(5, "c");
			close(5);
		} else if (!strcmp(m, "heir")) {
			dup2(2, 5);
			w(2, "a");
			close(2);
			w(5, "b\n");
			dup2(5, 2);
			close(5);
		} else if (!strcmp(m, "outnonl")) {
			printf("one\n");
			printf("partial");
			fputs(" more", stdout);
		} else if (!strcmp(m, "nonl")) {
			w(2, "tail\xe2");
		} else if (!strcmp(m, "forknonl")) {
			w(2, "a");
			pid_t pid = fork();
			if (pid == 0)
				exit(0);
			waitpid(pid, NULL, 0);
			w(2, "b\n");
		} else if (!strcmp(m, "random") && i + 2 < argc) {
			random_pieces(atoi(argv[i + 1]), strtoul(argv[i + 2], NULL, 10), 1, 0);
			i += 2;
		} else if (!strcmp(m, "partial") && i + 3 < argc) {
			int raw = open(argv[i + 3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (raw < 0)
				return 74;
			slow_stderr();
			random_pieces(atoi(argv[i + 1]), strtoul(argv[i + 2], NULL, 10), raw, 1);
			close(2);
			printf("short=%ld eagain=%ld\n", shorts, again);
			i += 3;
		} else {
			fprintf(stderr, "unknown mode %s\n", m);
			return 1;
		}
	}
	return 0;
}
