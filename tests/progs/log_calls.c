/*
 * log_calls: an ordinary program that logs.  Each argument names one way of
 * writing a line, done in order:
 *
 *   fprintf vfprintf printf vprintf dprintf fputs fputc putc putchar puts
 *   fwrite perror warn warnx vwarn vwarnx error error_at_line progname
 *   write writev pieces multi long:N longf:N syslog vsyslog syslog_m
 *   syslog_debug syslog_pos openlog openlog_perror ret err errx verr verrx
 *
 * It knows nothing of ctxshim; the tests run it with and without.
 */
#include <err.h>
#include <errno.h>
#include <error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>
#include <unistd.h>

static void my_vfprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void my_vprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void my_vwarn(int x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (x)
		vwarnx(fmt, ap);
	else
		vwarn(fmt, ap);
	va_end(ap);
}

static void my_verr(int x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (x)
		verrx(3, fmt, ap);
	else
		verr(3, fmt, ap);
	va_end(ap);
}

static void my_vsyslog(int pri, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

/* write(2) of a string literal, as one call. */
#define W(lit) wr(lit, sizeof(lit) - 1)
static void wr(const char *s, size_t n)
{
	if (write(2, s, n) < 0)
		exit(70);
}

static void progname(void)
{
	fprintf(stderr, "custom-name: ");
}

/* Return values and errno, as the program sees them, on stdout. */
static void check_returns(void)
{
	struct iovec v[2] = { { "ret ", 4 }, { "writev\n", 7 } };
	int e_ok = 1;
	errno = 1234;
	long a = fprintf(stderr, "ret fprintf %d\n", 12345);
	e_ok &= errno == 1234;
	long b = write(2, "ret write\n", 10);
	e_ok &= errno == 1234;
	long c = writev(2, v, 2);
	e_ok &= errno == 1234;
	long d = fputs("ret fputs\n", stderr);
	e_ok &= errno == 1234;
	long e = (long)fwrite("ret fwrite\n", 1, 11, stderr);
	e_ok &= errno == 1234;
	long f = dprintf(2, "ret dprintf %s\n", "x");
	e_ok &= errno == 1234;
	long g = fputc('\n', stderr);
	e_ok &= errno == 1234;
	perror("ret perror");
	e_ok &= errno == 1234;
	errno = 0;
	long h = write(-1, "x", 1);
	int bad = errno;
	printf("fprintf=%ld write=%ld writev=%ld fputs=%ld fwrite=%ld dprintf=%ld fputc=%ld "
	       "badfd=%ld/%s errno_kept=%d\n", a, b, c, d, e, f, g, h,
	       bad == EBADF ? "EBADF" : "other", e_ok);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];
		if (!strcmp(c, "fprintf")) {
			fprintf(stderr, "fprintf %d %s\n", 1, "one");
		} else if (!strcmp(c, "vfprintf")) {
			my_vfprintf("vfprintf %d\n", 2);
		} else if (!strcmp(c, "printf")) {
			printf("printf %d\n", 3);
			fflush(stdout);
		} else if (!strcmp(c, "vprintf")) {
			my_vprintf("vprintf %d\n", 4);
			fflush(stdout);
		} else if (!strcmp(c, "puts")) {
			puts("puts line");
			fflush(stdout);
		} else if (!strcmp(c, "putchar")) {
			putchar('p');
			putchar('\n');
			fflush(stdout);
		} else if (!strcmp(c, "dprintf")) {
			dprintf(2, "dprintf %d\n", 5);
		} else if (!strcmp(c, "fputs")) {
			fputs("fputs line\n", stderr);
		} else if (!strcmp(c, "fputc")) {
			fputc('f', stderr);
			fputc('\n', stderr);
		} else if (!strcmp(c, "putc")) {
			putc('u', stderr);
			putc('\n', stderr);
		} else if (!strcmp(c, "fwrite")) {
			fwrite("fwrite line\n", 1, 12, stderr);
		} else if (!strcmp(c, "perror")) {
			errno = ENOENT;
			perror("perror");
		} else if (!strcmp(c, "warn")) {
			errno = EACCES;
			warn("warn %s", "w");
		} else if (!strcmp(c, "warnx")) {
			warnx("warnx %s", "x");
		} else if (!strcmp(c, "vwarn")) {
			errno = EPERM;
			my_vwarn(0, "vwarn %d", 6);
		} else if (!strcmp(c, "vwarnx")) {
			my_vwarn(1, "vwarnx %d", 7);
		} else if (!strcmp(c, "error")) {
			error(0, EEXIST, "error %s", "e");
		} else if (!strcmp(c, "error_at_line")) {
			error_at_line(0, 0, "src.c", 42, "error_at_line %d", 8);
			error_one_per_line = 1;
			error_at_line(0, 0, "src.c", 43, "once");
			error_at_line(0, 0, "src.c", 43, "twice (never shown)");
			error_one_per_line = 0;
		} else if (!strcmp(c, "progname")) {
			error_print_progname = progname;
			error(0, 0, "with a custom name");
			error_print_progname = NULL;
		} else if (!strcmp(c, "write")) {
			W("write line\n");
		} else if (!strcmp(c, "writev")) {
			struct iovec v[3] = { { "writev ", 7 }, { "one\nwritev ", 11 }, { "two\n", 4 } };
			if (writev(2, v, 3) < 0)
				return 70;
		} else if (!strcmp(c, "pieces")) {
			W("a ");
			W("b");
			fprintf(stderr, " c");
			fputs(" d", stderr);
			W(" e\n");
		} else if (!strcmp(c, "multi")) {
			W("m1\nm2\nm3\n");
			fprintf(stderr, "m4\nm5\n");
		} else if (!strncmp(c, "long:", 5) || !strncmp(c, "longf:", 6)) {
			size_t n = strtoul(strchr(c, ':') + 1, NULL, 10);
			char *p = malloc(n + 1);
			for (size_t k = 0; k < n; k++)
				p[k] = (char)('a' + k % 26);
			p[n] = '\0';
			if (c[4] == 'f') {
				fprintf(stderr, "%s\n", p);
			} else {
				p[n - 1] = '\n';
				for (size_t done = 0; done < n;) {
					ssize_t r = write(2, p + done, n - done);
					if (r <= 0)
						break;
					done += (size_t)r;
				}
			}
			free(p);
		} else if (!strcmp(c, "openlog")) {
			openlog("logcalls", LOG_PID, LOG_LOCAL3);
		} else if (!strcmp(c, "openlog_perror")) {
			openlog("logcalls", LOG_PERROR, LOG_LOCAL3);
		} else if (!strcmp(c, "syslog")) {
			syslog(LOG_WARNING, "syslog %s %d", "warning", 9);
		} else if (!strcmp(c, "vsyslog")) {
			my_vsyslog(LOG_NOTICE, "vsyslog %s", "notice");
		} else if (!strcmp(c, "syslog_m")) {
			errno = ENOENT;
			syslog(LOG_ERR, "open failed: %m");
		} else if (!strcmp(c, "syslog_pos")) {
			errno = EACCES;
			syslog(LOG_INFO, "%2$s %1$s %3$d%% %m", "a", "b", 50);
		} else if (!strcmp(c, "syslog_debug")) {
			syslog(LOG_DEBUG, "debug detail");
			syslog(LOG_INFO, "info detail");
		} else if (!strcmp(c, "ret")) {
			check_returns();
		} else if (!strcmp(c, "err")) {
			errno = ENOSPC;
			err(2, "err %s", "fatal");
		} else if (!strcmp(c, "errx")) {
			errx(2, "errx %s", "fatal");
		} else if (!strcmp(c, "verr")) {
			errno = EIO;
			my_verr(0, "verr %d", 10);
		} else if (!strcmp(c, "verrx")) {
			my_verr(1, "verrx %d", 11);
		} else {
			fprintf(stderr, "log_calls: unknown call %s\n", c);
			return 64;
		}
	}
	return 0;
}
