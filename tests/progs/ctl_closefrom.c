/*
 * ctl_closefrom.c: a daemon-style program that, once started, closes every
 * file descriptor above 2 it did not open (close_range, as closefrom-style
 * daemons do), then keeps opening pipes at the lowest free numbers, also
 * dup2'ing them onto fixed numbers up to 259 (as shells do), and checks that exactly what it wrote
 * comes back: no byte in its fds may come from anyone else.  Prints
 * "closed" after close_range, "ok N" every 100 rounds, "CORRUPT" and exits
 * 1 on a mismatch; runs for SECONDS.
 *
 *   ctl_closefrom SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 5;
	close_range(3, ~0u, 0);
	printf("closed\n");
	fflush(stdout);
	time_t end = time(NULL) + secs;
	for (long round = 1; time(NULL) < end; round++) {
		int p[2];
		char msg[64], got[64];
		if (pipe(p) < 0)
			return 2;
		int hi = 10 + (int)(round % 250);
		if (dup2(p[1], hi) < 0)
			return 2;
		int n = snprintf(msg, sizeof msg, "round %ld\n", round);
		if (write(hi, msg, (size_t)n) != n)
			return 2;
		close(hi);
		close(p[1]);
		ssize_t k = read(p[0], got, sizeof got);
		if (k != n || memcmp(got, msg, (size_t)n) || read(p[0], got, 1) != 0) {
			printf("CORRUPT\n");
			return 1;
		}
		close(p[0]);
		if (round % 100 == 0) {
			printf("ok %ld\n", round);
			fflush(stdout);
		}
		usleep(1000);
	}
	return 0;
}
