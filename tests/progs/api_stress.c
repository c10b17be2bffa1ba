/*
 * api_stress.c: REQUESTS request threads each set their own request_id and
 * start CHILDREN children; every child reads the id twice around a random
 * sleep and must see its own request's id both times.  Prints the number of
 * mix-ups and exits 1 if there was any.
 *
 *   api_stress [REQUESTS [CHILDREN]]      (default 400 10)
 */
#include <ctxshim.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int children = 10;
static atomic_int mixups, reads;

static void check(const char *want)
{
	char got[64];
	if (ctxshim_get("request_id", got, sizeof got) < 0 || strcmp(got, want))
		atomic_fetch_add(&mixups, 1);
	atomic_fetch_add(&reads, 1);
}

static void *child(void *arg)
{
	const char *want = arg;
	unsigned seed = (unsigned)(uintptr_t)&want ^ (unsigned)pthread_self();
	check(want);
	usleep((useconds_t)(rand_r(&seed) % 2000));
	check(want);
	return NULL;
}

static void *request(void *arg)
{
	char id[32];
	pthread_t *t = calloc((size_t)children, sizeof *t);
	snprintf(id, sizeof id, "req-%ld", (long)arg);
	ctxshim_set("request_id", id);
	for (int i = 0; i < children; i++)
		pthread_create(&t[i], NULL, child, id);
	for (int i = 0; i < children; i++)
		pthread_join(t[i], NULL);
	check(id);
	free(t);
	return NULL;
}

int main(int argc, char **argv)
{
	int requests = argc > 1 ? atoi(argv[1]) : 400;
	if (argc > 2)
		children = atoi(argv[2]);
	pthread_t *t = calloc((size_t)requests, sizeof *t);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 << 10);
	for (long i = 0; i < requests; i++)
		if (pthread_create(&t[i], &a, request, (void *)i)) {
			perror("pthread_create");
			return 2;
		}
	for (int i = 0; i < requests; i++)
		pthread_join(t[i], NULL);
	printf("reads %d mixups %d\n", atomic_load(&reads), atomic_load(&mixups));
	free(t);
	return atomic_load(&mixups) != 0 || atomic_load(&reads) == 0;
}
