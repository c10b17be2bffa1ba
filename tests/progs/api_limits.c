/*
 * api_limits.c: the public API's contract, checked from a program built
 * with a plain `cc -I include` (no link flags).  Prints "ok NAME" or
 * "FAIL NAME: why"; exits 1 on a failure.  Run with the shim ("present") or
 * without it ("absent").
 */
#include <ctxshim.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;
#define CHECK(name, cond)                                                   \
	do {                                                                \
		if (cond)                                                   \
			printf("ok %s\n", name);                            \
		else {                                                      \
			printf("FAIL %s (errno %d)\n", name, errno);        \
			failed = 1;                                         \
		}                                                           \
	} while (0)

static int count_fn(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	++*(int *)arg;
	return 0;
}

static int set_in_visit(const char *k, const char *v, void *arg)
{
	(void)v;
	++*(int *)arg;
	ctxshim_set(k, "changed during foreach");
	return 1;   /* stop after the first */
}

static char seen[64];
static void *worker(void *h)
{
	ctxshim_set("request_id", "worker-own");
	ctxshim_ctx_t *tok = ctxshim_attach(h);
	ctxshim_get("request_id", seen, sizeof seen);
	ctxshim_detach(tok);
	char after[64] = "";
	ctxshim_get("request_id", after, sizeof after);
	if (strcmp(after, "worker-own"))
		strcpy(seen, "detach did not restore");
	return NULL;
}

static void absent(void)
{
	char buf[8];
	errno = 0;
	CHECK("absent: set fails with ENOSYS", ctxshim_set("k", "v") == -1 && errno == ENOSYS);
	errno = 0;
	CHECK("absent: get reports unset", ctxshim_get("k", buf, sizeof buf) == -1 && errno == ENOENT);
	CHECK("absent: unset fails with ENOSYS", ctxshim_unset("k") == -1);
	ctxshim_clear();
	CHECK("absent: capture is NULL", ctxshim_capture() == NULL);
	ctxshim_ctx_t *t = ctxshim_attach(NULL);
	ctxshim_detach(t);
	ctxshim_release(NULL);
	CHECK("absent: foreach visits nothing", ctxshim_foreach(count_fn, &(int){0}) == 0);
	CHECK("absent: job_begin fails", ctxshim_job_begin("j") == -1 && errno == ENOSYS);
}

static void present(void)
{
	char buf[8], big[CTXSHIM_MAX_VALUE + 2];
	char key[CTXSHIM_MAX_KEY + 2];

	CHECK("set then get", ctxshim_set("request_id", "abcdefghij") == 0 &&
				      ctxshim_get("request_id", buf, sizeof buf) == 10 &&
				      !strcmp(buf, "abcdefg"));
	CHECK("get with size 0 tells the length", ctxshim_get("request_id", NULL, 0) == 10);
	CHECK("empty value is not unset", ctxshim_set("empty", "") == 0 &&
						  ctxshim_get("empty", buf, sizeof buf) == 0);
	errno = 0;
	CHECK("get of a missing key: ENOENT", ctxshim_get("missing", buf, sizeof buf) == -1 &&
						      errno == ENOENT);
	errno = 0;
	CHECK("NULL key: EINVAL", ctxshim_set(NULL, "v") == -1 && errno == EINVAL);
	errno = 0;
	CHECK("NULL value: EINVAL", ctxshim_set("k", NULL) == -1 && errno == EINVAL);
	errno = 0;
	CHECK("empty key: EINVAL", ctxshim_set("", "v") == -1 && errno == EINVAL);
	errno = 0;
	CHECK("key with a space: EINVAL", ctxshim_set("a b", "v") == -1 && errno == EINVAL);
	errno = 0;
	CHECK("key with '=': EINVAL", ctxshim_set("a=b", "v") == -1 && errno == EINVAL);
	memset(key, 'k', sizeof key);
	key[CTXSHIM_MAX_KEY] = 0;
	CHECK("64-character key is fine", ctxshim_set(key, "v") == 0);
	key[CTXSHIM_MAX_KEY] = 'k';
	key[CTXSHIM_MAX_KEY + 1] = 0;
	errno = 0;
	CHECK("65-character key: EINVAL", ctxshim_set(key, "v") == -1 && errno == EINVAL);
	memset(big, 'v', sizeof big);
	big[CTXSHIM_MAX_VALUE] = 0;
	CHECK("4096-byte value is fine", ctxshim_set("big", big) == 0 &&
						 ctxshim_get("big", NULL, 0) == CTXSHIM_MAX_VALUE);
	big[CTXSHIM_MAX_VALUE] = 'v';
	big[CTXSHIM_MAX_VALUE + 1] = 0;
	errno = 0;
	CHECK("4097-byte value: EINVAL, nothing stored",
	      ctxshim_set("big2", big) == -1 && errno == EINVAL &&
		      ctxshim_get("big2", NULL, 0) == -1);
	ctxshim_clear();
	int n = 0;
	CHECK("clear empties", ctxshim_foreach(count_fn, &n) == 0 && n == 0);
	char k[16];
	for (int i = 0; i < CTXSHIM_MAX_ENTRIES; i++) {
		snprintf(k, sizeof k, "k%02d", i);
		ctxshim_set(k, "v");
	}
	errno = 0;
	CHECK("65th key: ENOSPC", ctxshim_set("one_more", "v") == -1 && errno == ENOSPC);
	CHECK("replacing in a full context works", ctxshim_set("k00", "w") == 0);
	n = 0;
	CHECK("foreach visits every entry", ctxshim_foreach(count_fn, &n) == 64 && n == 64);
	n = 0;
	CHECK("foreach survives a set from its callback, and stops when asked",
	      ctxshim_foreach(set_in_visit, &n) == 1 && n == 1 &&
		      ctxshim_get("k00", big, sizeof big) > 0 &&
		      !strcmp(big, "changed during foreach"));
	CHECK("unset removes", ctxshim_unset("k01") == 0 && ctxshim_get("k01", NULL, 0) == -1);
	errno = 0;
	CHECK("unset of a bad key: EINVAL", ctxshim_unset("bad key") == -1 && errno == EINVAL);
	ctxshim_clear();

	ctxshim_set("request_id", "captured");
	ctxshim_ctx_t *h = ctxshim_capture();
	ctxshim_set("request_id", "changed after capture");
	pthread_t t;
	pthread_create(&t, NULL, worker, h);
	pthread_join(t, NULL);
	ctxshim_release(h);
	/* copy: the snapshot; chain: the capturer's live value; share: one
	 * map for all, so the worker's own write. */
	const char *mode = getenv("CTXSHIM_MODE") ? getenv("CTXSHIM_MODE") : "copy";
	const char *want = !strcmp(mode, "share") ? "worker-own"
			 : !strcmp(mode, "chain") ? "changed after capture" : "captured";
	CHECK("attach in a worker sees the captured context; detach restores",
	      !strcmp(seen, want));

	CHECK("job_begin", ctxshim_job_begin("nightly-report") == 0);
	char id[64], path[64];
	ctxshim_get("request_id", id, sizeof id);
	ctxshim_get("request_path", path, sizeof path);
	CHECK("job id starts with JOB", !strncmp(id, "JOB", 3));
	CHECK("job path is the name", !strcmp(path, "nightly-report"));
	char id2[64];
	ctxshim_job_begin("again");
	ctxshim_get("request_id", id2, sizeof id2);
	CHECK("job ids are unique", strcmp(id, id2) != 0);
	printf("job id %s\n", id2);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "absent"))
		absent();
	else
		present();
	return failed;
}
