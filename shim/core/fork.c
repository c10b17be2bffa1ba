/*
 * fork.c: the shim's locks across fork(), in one place.  A family registers
 * its pointer tables (ctx_fork_watch) and its own locks (ctx_at_fork) once;
 * before fork every one is taken, in the order registered, and after it they
 * are let go (in the child, every registered child function runs before the
 * tables are unlocked, so it may walk them).  The child never inherits a lock
 * held by a thread that does not exist there.
 */
#include "core.h"
#include "ptrtab.h"

#include <pthread.h>

/* Beside what a forked child writes at fork (one page copied, not two). */
int ctx_wait_pending __attribute__((section(".data.ctxshim_fork")));
void (*ctx_wait_fn)(void);

#define MAX_TABLES 8
static struct ptrtab *tables[MAX_TABLES];
static int ntables;

#define MAX_FNS 16
struct fork_fns {
	void (*prepare)(void), (*parent)(void), (*child)(void);
};
static struct fork_fns fns[MAX_FNS];
static int nfns;
static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;

static void before_fork(void)
{
	pthread_mutex_lock(&tables_lock);
	for (int i = 0; i < ntables; i++)
		ptrtab_lock_all(tables[i]);
	for (int i = 0; i < nfns; i++)
		if (fns[i].prepare)
			fns[i].prepare();
}

static void after_fork(int child)
{
	for (int i = nfns - 1; i >= 0; i--) {
		void (*fn)(void) = child ? fns[i].child : fns[i].parent;
		if (fn)
			fn();
	}
	for (int i = ntables - 1; i >= 0; i--)
		ptrtab_unlock_all(tables[i]);
	pthread_mutex_unlock(&tables_lock);
}

static void in_parent(void) { after_fork(0); }
static void in_child(void) { after_fork(1); }

static void arm(void)
{
	static int armed;
	if (!armed)
		armed = pthread_atfork(before_fork, in_parent, in_child) == 0;
}

void ctx_fork_watch(struct ptrtab *table)
{
	pthread_mutex_lock(&tables_lock);
	arm();
	if (ntables < MAX_TABLES)
		tables[ntables++] = table;
	pthread_mutex_unlock(&tables_lock);
}

void ctx_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	pthread_mutex_lock(&tables_lock);
	arm();
	if (nfns < MAX_FNS)
		fns[nfns++] = (struct fork_fns){ prepare, parent, child };
	pthread_mutex_unlock(&tables_lock);
}
