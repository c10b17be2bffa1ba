/*
 * net_lease.c: when a thread stops working for a connection (README
 * "Attribution rules").  A thread takes a connection's context (a lease)
 * when it accepts, reads or writes it (net_enter); it gives it back, and
 * returns to what it had before (its base), when it closes or shuts down
 * that connection (net_fd_closed, shutdown) and when it blocks waiting for
 * events (the hooks below, and a blocking accept: net_conn.c).  The wait
 * hooks cost a thread-local load and a branch while no lease is held.
 */
#include "net.h"

#include "fdtab.h"
#include "hooks.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

void net_lease_end(void)
{
	ctxshim_ctx_t *cur = net_me.cur;
	/* A signal handler that interrupted the core must not switch (the
	 * core may hold the thread's own lock); the lease ends at a later
	 * wait. */
	if (!cur || ctx_self.in_core)
		return;
	net_me.cur = NULL;
	net_me.conn = NULL;
	/* Still under the leased context: back to the base.  Otherwise the
	 * program (or an event-loop callback's registration context, loop/)
	 * has replaced it meanwhile, and that wins.  A thread with no base was
	 * started under the connection's context (inherited): it keeps it. */
	if (net_me.based && ctx_is_current(cur))
		ctx_switch(net_me.base);
}

void net_lease_waiting(void)
{
	if (ctx_self.in_hook)
		return;
	KEEP_ERRNO;     /* a wait that succeeds leaves errno as it was */
	net_lease_end();
	RESTORE_ERRNO;
}

/* shutdown of both directions ends the calling thread's lease on FD as a
 * close would (the fd itself stays, and so does its state). */
CTX_EXPORT int shutdown(int fd, int how)
{
	if (likely(how != SHUT_RDWR || !net_me.cur || !(fdtab_get(fd) & FD_CONN)))
		return REAL(shutdown)(fd, how);
	KEEP_ERRNO;
	struct net_conn *c = net_slot(fd);
	if (c && !ctx_self.in_hook) {
		net_lock(c);
		int mine = atomic_load(&c->kind) == NET_IN &&
			   (net_me.conn == c || net_me.cur == c->ctx || net_me.cur == c->base);
		net_unlock(c);
		if (mine)
			net_lease_end();
	}
	RESTORE_ERRNO;
	return REAL(shutdown)(fd, how);
}

/* poll and select wait for whatever fds they are given: a wait for new
 * work (an event loop's) names a connection the shim watches, while a wait
 * in the middle of a request's work (Python's subprocess reading its
 * child's pipes) names none, and must not end the lease. */
static int polls_conn(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; fds && i < n; i++)
		if (fdtab_get(fds[i].fd) & FD_CONN)
			return 1;
	return 0;
}

static int selects_conn(int n, const fd_set *r, const fd_set *w)
{
	for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w))) && (fdtab_get(fd) & FD_CONN))
			return 1;
	return 0;
}

/* The thread blocks waiting for events: what it does after the wait belongs
 * to whatever it touches next, not to the last connection it served.  A
 * zero timeout does not wait (a check in the middle of some work).  Every
 * wait is also the process's "first wait" (ctx_waiting: a forked child's
 * control listener starts then, ctl/). */
CTX_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int ms)
{
	ctx_waiting();
	if (ms)
		net_lease_wait();
	return REAL(epoll_wait)(ep, ev, max, ms);
}

CTX_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int ms, const sigset_t *m)
{
	ctx_waiting();
	if (ms)
		net_lease_wait();
	return REAL(epoll_pwait)(ep, ev, max, ms, m);
}

CTX_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *t,
			    const sigset_t *m)
{
	ctx_waiting();
	if (!t || t->tv_sec || t->tv_nsec)
		net_lease_wait();
	return REAL(epoll_pwait2)(ep, ev, max, t, m);
}

CTX_EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	ctx_waiting();
	if (ms && unlikely(net_me.cur != NULL) && polls_conn(fds, n))
		net_lease_waiting();
	return REAL(poll)(fds, n, ms);
}

CTX_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *m)
{
	ctx_waiting();
	if ((!t || t->tv_sec || t->tv_nsec) && unlikely(net_me.cur != NULL) && polls_conn(fds, n))
		net_lease_waiting();
	return REAL(ppoll)(fds, n, t, m);
}

CTX_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
	ctx_waiting();
	if ((!t || t->tv_sec || t->tv_usec) && unlikely(net_me.cur != NULL) && selects_conn(n, r, w))
		net_lease_waiting();
	return REAL(select)(n, r, w, e, t);
}

CTX_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
		       const sigset_t *m)
{
	ctx_waiting();
	if ((!t || t->tv_sec || t->tv_nsec) && unlikely(net_me.cur != NULL) && selects_conn(n, r, w))
		net_lease_waiting();
	return REAL(pselect)(n, r, w, e, t, m);
}


/* The fortified forms (_FORTIFY_SOURCE builds call them). */
CTX_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen)
{
	ctx_waiting();
	if (ms && unlikely(net_me.cur != NULL) && polls_conn(fds, n))
		net_lease_waiting();
	return REAL(__poll_chk)(fds, n, ms, fdslen);
}

CTX_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
			   const sigset_t *m, size_t fdslen)
{
	ctx_waiting();
	if ((!t || t->tv_sec || t->tv_nsec) && unlikely(net_me.cur != NULL) && polls_conn(fds, n))
		net_lease_waiting();
	return REAL(__ppoll_chk)(fds, n, t, m, fdslen);
}
