/*
 * ctl_layer.c: threads reading process-wide entries while they change.
 *
 * N reader threads loop over the keys k0..k15: ctxshim_get of each (a value
 * must be 1..4096 copies of one lowercase letter, whatever was set
 * meanwhile), ctxshim_foreach over the whole context (the same check), and
 * every 1024 rounds a line "reader I round R" on stderr (decorated by the
 * shim when it logs stderr).  The main thread interrupts the readers with
 * SIGUSR1 in turn, every millisecond; the handler reads a key too.  It
 * prints "ready" once the readers run; on SIGTERM they stop, and it prints
 * "reads R signals S bad B", exiting 1 if any value read was not whole.
 *
 *   ctl_layer N [PAUSE_US]
 *
 * PAUSE_US: each reader sleeps that long between rounds (default 0: reads
 * without a break, so a reader is nearly always inside a read).
 */
#include <ctxshim.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VMAX 4096

static atomic_int stop;
static long pause_us;
static atomic_long reads, bad, sigreads;

/* V (N bytes) is 1..VMAX copies of one lowercase letter. */
static int whole(const char *v, long n)
{
	if (n < 1 || n > VMAX || v[0] < 'a' || v[0] > 'z')
		return 0;
	for (long i = 1; i < n; i++)
		if (v[i] != v[0])
			return 0;
	return 1;
}

static int check_entry(const char *key, const char *value, void *arg)
{
	(void)arg;
	if (key[0] == 'k' && !whole(value, (long)strlen(value)))
		atomic_fetch_add(&bad, 1);
	return 0;
}

static void on_usr1(int sig)
{
	static __thread char buf[VMAX + 1];
	int saved = errno;      /* ctxshim_get sets it when a key is unset */
	(void)sig;
	ssize_t n = ctxshim_get("k15", buf, sizeof buf);
	if (n >= 0 && !whole(buf, n))
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&sigreads, 1);
	errno = saved;
}

static void *reader(void *arg)
{
	char buf[VMAX + 1], key[8];
	long id = (long)arg;
	for (long round = 0; !atomic_load(&stop); round++) {
		for (int k = 0; k < 16; k++) {
			snprintf(key, sizeof key, "k%d", k);
			ssize_t n = ctxshim_get(key, buf, sizeof buf);
			if (n >= 0 && !whole(buf, n))
				atomic_fetch_add(&bad, 1);
		}
		ctxshim_foreach(check_entry, NULL);
		atomic_fetch_add(&reads, 17);
		if (round % 1024 == 0)
			fprintf(stderr, "reader %ld round %ld\n", id, round);
		if (pause_us)
			usleep((useconds_t)pause_us);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 4;
	pause_us = argc > 2 ? atol(argv[2]) : 0;
	pthread_t th[64];
	sigset_t term;
	struct sigaction sa;
	struct timespec ms = { 0, 1000000 };

	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: %s N (1..64) [PAUSE_US]\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);    /* readers inherit it */
	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, reader, (void *)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	printf("ready\n");
	fflush(stdout);
	for (long i = 0; sigtimedwait(&term, NULL, &ms) < 0; i++)
		pthread_kill(th[i % n], SIGUSR1);
	atomic_store(&stop, 1);
	for (long i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("reads %ld signals %ld bad %ld\n", atomic_load(&reads), atomic_load(&sigreads),
	       atomic_load(&bad));
	return atomic_load(&bad) ? 1 : 0;
}
