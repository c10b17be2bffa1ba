/*
 * log_files DIR: writes log lines into files under DIR the ways daemons do,
 * and data where logs are not:
 *
 *   DIR/app.log    fopen("a") + fprintf, fputs, fwrite, then fclose
 *   DIR/raw.log    open(O_APPEND) + write, writev, dprintf, then close
 *   DIR/rel.log    openat(DIR fd, "rel.log") + write
 *   DIR/creat.log  creat + write
 *   DIR/data.bin   open + write (not a log: never decorated)
 *   stderr         freopen(DIR/stderr.log) + fprintf
 *
 * Then, after each way a log fd can be closed (close, fclose, freopen,
 * closefrom), a socketpair takes the freed number and "socket data\n" is
 * sent through it; what arrives is printed on stdout, one line per case.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *dir;

static char *path(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		exit(70);
}

/* A socket pair whose first end reuses fd WANT (closed just before). */
static void through_socket(const char *label, int want)
{
	int sv[2];
	char buf[256];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		exit(71);
	if (sv[0] != want && sv[1] != want) {
		printf("%s: fd %d not reused (%d %d)\n", label, want, sv[0], sv[1]);
		return;
	}
	int w = sv[0] == want ? sv[0] : sv[1], r = w == sv[0] ? sv[1] : sv[0];
	put(w, "socket data\n");
	ssize_t n = read(r, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	printf("%s: %s", label, buf);
	fflush(stdout);
	close(sv[0]);
	close(sv[1]);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	dir = argv[1];

	FILE *f = fopen(path("app.log"), "a");
	fprintf(f, "app started pid=%d\n", 1);
	fputs("app fputs\n", f);
	fwrite("app fwrite\n", 1, 11, f);
	fclose(f);

	int fd = open(path("raw.log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	put(fd, "raw write\n");
	struct iovec v[2] = { { "raw ", 4 }, { "writev\n", 7 } };
	if (writev(fd, v, 2) != 11)
		return 72;
	dprintf(fd, "raw dprintf %d\n", 3);
	close(fd);

	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, "rel.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	put(fd, "rel line\n");
	close(fd);
	close(dfd);

	fd = creat(path("creat.log"), 0644);
	put(fd, "creat line\n");
	close(fd);

	fd = open(path("data.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	put(fd, "data line\n");
	close(fd);

	/* fd reuse after each kind of close */
	fd = open(path("reuse.log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	put(fd, "reuse close\n");
	close(fd);
	through_socket("after close", fd);

	f = fopen(path("reuse.log"), "a");
	fd = fileno(f);
	fputs("reuse fclose\n", f);
	fclose(f);
	through_socket("after fclose", fd);

	f = fopen(path("reuse.log"), "a");
	fd = fileno(f);
	fputs("reuse freopen\n", f);
	f = freopen(path("data2.bin"), "w", f);
	fputs("freopen data line\n", f);
	fflush(f);
	fclose(f);
	through_socket("after freopen+fclose", fd);

	fd = open(path("reuse.log"), O_WRONLY | O_APPEND);
	put(fd, "reuse closefrom\n");
	closefrom(fd);
	through_socket("after closefrom", fd);

	/* stderr into a log file */
	if (!freopen(path("stderr.log"), "a", stderr))
		return 73;
	fprintf(stderr, "stderr line %d\n", 4);
	return 0;
}
