/*
 * log_sig: writes lines to stderr in a loop (fprintf and write) while a
 * 200 us interval timer's handler writes "from handler" lines with write(2).
 * The program's own malloc family counts calls made while the handler runs
 * (an allocation there could deadlock).  Prints "handled=N allocs=M" on
 * stdout.  COUNT: how many handler runs to wait for (default 300).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile sig_atomic_t in_handler, handled;
static volatile int allocs;

void *malloc(size_t n)
{
	if (in_handler)
		allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (in_handler)
		allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (in_handler)
		allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (in_handler)
		allocs++;
	__libc_free(p);
}

static void on_alarm(int sig)
{
	static const char line[] = "from handler\n";
	(void)sig;
	in_handler = 1;
	if (write(2, line, sizeof line - 1) < 0)
		_exit(71);
	in_handler = 0;
	handled++;
}

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 300;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_REAL, &it, NULL);
	for (long n = 0; handled < want; n++) {
		if (n % 2)
			fprintf(stderr, "main fprintf %ld\n", n);
		else if (write(2, "main write\n", 11) < 0)
			return 70;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	/* A signal or two may land between the loop's test and the timer's
	 * end: the count reached is what is reported. */
	printf("handled=%d allocs=%d\n", handled >= want ? want : (int)handled, allocs);
	return 0;
}
