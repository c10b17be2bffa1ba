/*
 * log_bench MODE N: the CPU time (ns) one call costs, over N calls.
 *
 *   syslog   syslog(LOG_INFO, ...) of a 60-byte message (to /dev/log)
 *   fprintf  fprintf(stderr, ...) of a 60-byte line, stderr on /dev/null
 *   write    write(2, ...) of a 60-byte line, stderr on /dev/null
 *   plain    write(fd, ...) of 60 bytes to /dev/null on an fd that is no log
 *
 * CPU time, not wall time: the syslog receiver's pace does not count.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 64;
	const char *mode = argv[1];
	long n = atol(argv[2]);
	int null = open("/dev/null", O_WRONLY);
	char line[61];
	memset(line, 'x', sizeof line);
	memcpy(line, "GET /api/v1/users/42 200 0.003s ", 32);
	line[59] = '\n';
	line[60] = '\0';
	if (strcmp(mode, "syslog") != 0)
		dup2(null, 2);
	openlog("bench", LOG_NDELAY, LOG_USER);
	double t0 = cpu_ns();
	if (!strcmp(mode, "syslog")) {
		for (long i = 0; i < n; i++)
			syslog(LOG_INFO, "GET /api/v1/users/%ld 200 %s", i % 1000, "0.003s xxxxxxxxxxxxxx");
	} else if (!strcmp(mode, "fprintf")) {
		for (long i = 0; i < n; i++)
			fprintf(stderr, "GET /api/v1/users/%03ld 200 0.003s %s\n", i % 1000,
				"xxxxxxxxxxxxxxxxxxxxxx");
	} else if (!strcmp(mode, "write")) {
		for (long i = 0; i < n; i++)
			if (write(2, line, 60) != 60)
				return 70;
	} else if (!strcmp(mode, "plain")) {
		for (long i = 0; i < n; i++)
			if (write(null, line, 60) != 60)
				return 70;
	} else {
		return 64;
	}
	printf("%.1f\n", (cpu_ns() - t0) / (double)n);
	return 0;
}
