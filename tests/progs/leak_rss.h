/*
 * leak_rss.h: the leak programs' common part.  Each runs N register/fire
 * cycles of one kind after a warm-up of N/10, and prints the resident set
 * size before and after: a leak of even a few bytes a cycle shows over a
 * million cycles, while the allocator's own slack does not grow.
 */
#ifndef LEAK_RSS_H
#define LEAK_RSS_H

#include <ctxshim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long rss_kb(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &pages, &res) != 2)
		exit(2);
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Every cycle registers from a context of its own making, so a context
 * captured and never released would pile up. */
static void leak_context(long i)
{
	char id[32];
	snprintf(id, sizeof id, "req-%ld", i % 1000);
	ctxshim_set("request_id", id);
}

/* Usage: PROG MODE N.  Runs CYCLE(mode, count) twice, reports growth. */
#define LEAK_MAIN(cycle) \
int main(int argc, char **argv) \
{ \
	if (argc != 3) { \
		fprintf(stderr, "usage: %s MODE N\n", argv[0]); \
		return 2; \
	} \
	long n = atol(argv[2]); \
	if (cycle(argv[1], n / 10 + 1) < 0) { \
		fprintf(stderr, "unknown mode %s\n", argv[1]); \
		return 2; \
	} \
	long before = rss_kb(); \
	cycle(argv[1], n); \
	long after = rss_kb(); \
	printf("%s cycles=%ld before=%ld after=%ld growth=%ld\n", argv[1], n, before, after, \
	       after - before); \
	return 0; \
}

#endif
