/*
 * api_leak.c: CYCLES pthread_create/join cycles with a 16-entry context
 * (set through the API, then inherited by every thread, which writes one
 * key of its own).  Prints the resident set size after a warm-up and at the
 * end, in kB: "rss WARM END".
 *
 *   api_leak [CYCLES]        (default 200000)
 */
#include <ctxshim.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static void *child(void *arg)
{
	ctxshim_set("child_key", "child value");
	return arg;
}

int main(int argc, char **argv)
{
	long cycles = argc > 1 ? atol(argv[1]) : 200000, warm = 0;
	char k[16], v[64];
	for (int i = 0; i < 16; i++) {
		snprintf(k, sizeof k, "key%02d", i);
		snprintf(v, sizeof v, "value number %d of the context", i);
		ctxshim_set(k, v);
	}
	for (long i = 0; i < cycles; i++) {
		pthread_t t;
		if (i == cycles / 10)
			warm = rss_kb();
		if (pthread_create(&t, NULL, child, NULL)) {
			perror("pthread_create");
			return 1;
		}
		pthread_join(t, NULL);
	}
	printf("rss %ld %ld\n", warm, rss_kb());
	return 0;
}
