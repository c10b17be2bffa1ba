/*
 * api_modes.c: the inheritance scenarios of the peers' "comparison of task
 * factories", with threads in place of tasks.  Uses the public API; the mode
 * comes from CTXSHIM_MODE.  Prints what each side sees, one line each.
 *
 *   api_modes table|live|grandchild|unset|clear
 */
#include <ctxshim.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *get(const char *key, char *buf)
{
	return ctxshim_get(key, buf, 256) < 0 ? "<unset>" : buf;
}

static void show(const char *who, const char *k1, const char *k2)
{
	char a[256], b[256];
	printf("%s: %s=%s %s=%s\n", who, k1, get(k1, a), k2, get(k2, b));
	fflush(stdout);
}

static void run(void *(*fn)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	pthread_join(t, NULL);
}

/* table: the child redefines "simple" */
static void *table_child(void *p)
{
	ctxshim_set("simple", "from child");
	show("child", "simple", "complex");
	return p;
}

/* live: the parent writes right after pthread_create; the child looks later */
static pthread_barrier_t bar;
static void *live_child(void *p)
{
	pthread_barrier_wait(&bar);   /* parent has written */
	show("child", "k", "late");
	return p;
}

static void *gc_grandchild(void *p)
{
	pthread_barrier_wait(&bar);    /* main has written a=main2 */
	show("grandchild", "a", "b");
	ctxshim_set("c", "from grandchild");
	return p;
}
static void *gc_child(void *p)
{
	ctxshim_set("b", "from child");
	run(gc_grandchild);
	show("child", "c", "a");
	return p;
}
static void *unset_child(void *p)
{
	ctxshim_unset("k");
	show("child", "k", "other");
	return p;
}

static void *clear_child(void *p)
{
	ctxshim_set("c", "from child");
	ctxshim_clear();
	show("child", "a", "c");
	return p;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "table";
	if (!strcmp(what, "table")) {
		ctxshim_set("simple", "from parent");
		ctxshim_set("complex", "from parent");
		show("parent before", "simple", "complex");
		run(table_child);
		show("parent after", "simple", "complex");
	} else if (!strcmp(what, "live")) {
		pthread_t t;
		pthread_barrier_init(&bar, NULL, 2);
		ctxshim_set("k", "before");
		pthread_create(&t, NULL, live_child, NULL);
		ctxshim_set("k", "after");      /* right after pthread_create */
		ctxshim_set("late", "added");
		pthread_barrier_wait(&bar);
		pthread_join(t, NULL);
	} else if (!strcmp(what, "grandchild")) {
		pthread_t t;
		pthread_barrier_init(&bar, NULL, 2);
		ctxshim_set("a", "main");
		pthread_create(&t, NULL, gc_child, NULL);
		ctxshim_set("a", "main2");
		pthread_barrier_wait(&bar);
		pthread_join(t, NULL);
		show("main", "b", "c");
	} else if (!strcmp(what, "unset")) {
		ctxshim_set("k", "v");
		ctxshim_set("other", "o");
		run(unset_child);
		show("parent", "k", "other");
	} else if (!strcmp(what, "clear")) {
		ctxshim_set("a", "from parent");
		run(clear_child);
		show("parent", "a", "c");
	}
	return 0;
}
