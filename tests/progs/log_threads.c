/*
 * log_threads: THREADS threads (default 8), each with its own request_id
 * (set through ctxshim.h, a no-op without the shim), each writing LINES
 * lines (default 5000) to stderr, alternately with fprintf and write(2):
 *   t=<thread> n=<line> <padding to a fixed length>
 */
#include "ctxshim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int lines = 5000;

static void *run(void *arg)
{
	int t = (int)(long)arg;
	char id[32], buf[160];
	snprintf(id, sizeof id, "t%d", t);
	ctxshim_set("request_id", id);
	for (int n = 0; n < lines; n++) {
		if (n % 2) {
			fprintf(stderr, "t=%d n=%d %s\n", t, n, "fprintf-padding-padding-padding");
		} else {
			int len = snprintf(buf, sizeof buf, "t=%d n=%d %s\n", t, n,
					   "write-padding-padding-padding-pad");
			if (write(2, buf, (size_t)len) != len)
				exit(70);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		lines = atoi(argv[2]);
	pthread_t th[64];
	if (threads < 1 || threads > 64)
		return 64;
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, (void *)(long)i);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
