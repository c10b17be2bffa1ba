/*
 * libctlidle.c: a library whose constructor starts one thread that waits
 * forever, as a multi-threaded program's threads would be there.  Used by
 * the control benchmark to tell glibc's own single- vs multi-threaded costs
 * from what the shim adds.
 */
#include <pthread.h>
#include <unistd.h>

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

__attribute__((constructor)) static void start_idle(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, idle, NULL) == 0)
		pthread_detach(th);
}
