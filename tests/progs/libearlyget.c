/*
 * libearlyget.c: a library whose constructor reads the context through the
 * public API before ctxshim's own constructor has run.
 */
#include <ctxshim.h>

#include <stdio.h>

__attribute__((constructor)) static void early_get(void)
{
	char v[64] = "";
	ssize_t n = ctxshim_get("request_id", v, sizeof v);
	printf("early get: %zd %s\n", n, n < 0 ? "unset" : v);
	fflush(stdout);
}
