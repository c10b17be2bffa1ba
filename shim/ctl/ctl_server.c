/*
 * ctl_server.c: the control listener of a process (CTXSHIM_CONTROL=1).
 *
 * One thread per process, started by ctl_init, and in a forked child at its
 * first wait (ctl_hooks.c): a child that execs or exits at once pays for no
 * endpoint and no thread.  Never otherwise: a thread the shim starts is
 * visible to the program (PITFALLS.md), so with control off nothing is
 * started, created or listened on.  The thread blocks every signal (the
 * program's signals go to the program's threads), sets its recursion guard
 * for good (every hook it calls passes straight through) and serves all
 * clients with non-blocking sockets and one poll(): a client that is slow,
 * silent or hostile costs it a slot until its deadline, nothing more, and
 * never holds up a thread of the program.
 *
 * Every connection is checked with SO_PEERCRED: the process's effective uid
 * or root may talk to it, anyone else gets one error line and is closed
 * (the directory and socket modes already keep others out; this holds even
 * if they are loosened).
 *
 * The fds it owns sit at high numbers (ctl_fd_high) and are re-checked
 * (fstat identity) before each use, because a program may close every fd it
 * does not know of (closefrom) or dup2 over one: then the fd is no longer
 * ours, is left alone, and the endpoint is made anew.
 *
 * The listener must never keep a process alive or outlive its exit:
 *   - at exit (an atexit handler, so before any library's destructor) it is
 *     stopped and joined first; it removes the endpoint itself, as its last
 *     act, so nothing the main thread may no longer do (sshd's seccomp
 *     filter kills a thread calling unlink) runs before the join;
 *   - before the process sandboxes itself (ctl_seal) the same happens, for
 *     good;
 *   - when the main thread is gone and it is the last thread left, it ends
 *     itself (checked every CHECK_MS while idle);
 *   - its idle loop makes system calls directly, and the exit path's
 *     deadlines are read from the system call, never from a clock another
 *     preloaded library may fake (libfaketime).
 */
#include "ctl.h"

#include "hooks.h"
#include "ctlreq.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define READ_MS 2000          /* to send a whole request after connecting */
#define WRITE_MS 5000         /* to take the whole answer */
#define CHECK_MS 2000         /* how often an idle listener checks its endpoint */
#define ANSWER_MAX (16u << 20)
#define JOIN_MS 1000          /* at most this long to join it at exit */

int ctl_on;
int ctl_trace_spawn;

struct client {
	int fd;                   /* -1: free slot */
	dev_t dev;
	ino_t ino;
	uint64_t deadline;
	int writing;
	char *in;
	size_t in_len, in_cap;
	struct jbuf out;
	size_t out_off;
};

/* Held around every change to the set of fds the listener owns (accept,
 * close, a new endpoint), and by the fork prepare handler: a forked child
 * knows exactly which fds to close. */
static pthread_mutex_t fd_lock CTL_FORK_DATA = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_ep ep = { .fd = -1 };
static struct client clients[MAX_CLIENTS];
static int nclients;
static uint64_t last_check_ns;

/* The listener's life in this process.  NONE: control off or no endpoint
 * could be made; PENDING: a forked child that has not waited yet (no
 * endpoint); BOUND: the endpoint is there (made at start-up), the thread
 * starts at the first wait; STARTING: being made; UP: running; SEALED:
 * stopped for good (exit, sandbox). */
enum { LIFE_NONE, LIFE_PENDING, LIFE_BOUND, LIFE_STARTING, LIFE_UP, LIFE_SEALED };
static atomic_int life CTL_FORK_DATA;
/* The process LIFE belongs to: a vforked child shares this memory and must
 * change nothing of its parent's. */
static pid_t life_pid CTL_FORK_DATA;
/* fork_prepare took the locks (the process had threads). */
static int fork_locked CTL_FORK_DATA;
static atomic_int stopping;
static pthread_t listener_th;

static int on(const char *name)
{
	return ctx_flag(ctx_getenv(name));
}

/* ---- clients -------------------------------------------------------------- */

static int client_fd_ok(const struct client *c)
{
	struct stat st;
	return ctl_sys_fstat(c->fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
}

/* Drop C; its fd is closed only while it is still ours. */
static void client_drop(struct client *c)
{
	pthread_mutex_lock(&fd_lock);
	if (client_fd_ok(c))
		REAL(close)(c->fd);
	c->fd = -1;
	nclients--;
	pthread_mutex_unlock(&fd_lock);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	jb_free(&c->out);
}

static void client_answer(struct client *c, const char *line, size_t len)
{
	jb_reset(&c->out);
	ctl_answer(line, len, &c->out);
	if (c->out.bad) {
		jb_reset(&c->out);
		ctl_answer_error(&c->out, "answer too large or out of memory");
	}
	c->writing = 1;
	c->out_off = 0;
	c->deadline = ctl_now_ns() + (uint64_t)WRITE_MS * 1000000u;
}

static void client_error(struct client *c, const char *msg)
{
	jb_reset(&c->out);
	ctl_answer_error(&c->out, msg);
	c->writing = 1;
	c->out_off = 0;
	c->deadline = ctl_now_ns() + (uint64_t)WRITE_MS * 1000000u;
}

/* C is readable: gather the request line; answer it when complete. */
static void client_read(struct client *c)
{
	if (c->in_len == c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap * 4 : 1024;
		if (cap > CTL_REQ_MAX)
			cap = CTL_REQ_MAX;
		char *p = realloc(c->in, cap + 1);
		if (!p) {
			client_drop(c);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	ssize_t k = REAL(recv)(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_drop(c);
		return;
	}
	if (k == 0) {
		/* The client closed its side: what it sent is the request. */
		if (c->in_len == 0) {
			client_drop(c);
			return;
		}
		c->in[c->in_len] = '\0';
		client_answer(c, c->in, c->in_len);
		return;
	}
	char *nl = memchr(c->in + c->in_len, '\n', (size_t)k);
	c->in_len += (size_t)k;
	if (nl) {
		*nl = '\0';
		client_answer(c, c->in, (size_t)(nl - c->in));
	} else if (c->in_len >= CTL_REQ_MAX) {
		client_error(c, "request too large (at most 65536 bytes with its newline)");
	}
}

static void client_write(struct client *c)
{
	ssize_t k = REAL(send)(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			       MSG_DONTWAIT | MSG_NOSIGNAL);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_drop(c);
		return;
	}
	c->out_off += (size_t)k;
	if (c->out_off == c->out.len)
		client_drop(c);   /* one request per connection */
}

/* Not the process's user nor root: one line, then closed. */
static int peer_allowed(int fd, char *why, size_t cap)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		snprintf(why, cap, "cannot check the peer's credentials");
		return 0;
	}
	uid_t me = geteuid();
	if (cr.uid == me || cr.uid == 0)
		return 1;
	snprintf(why, cap, "permission denied: uid %u may not control process %d (owned by uid %u)",
		 (unsigned)cr.uid, (int)getpid(), (unsigned)me);
	return 0;
}

static void accept_clients(void)
{
	while (nclients < MAX_CLIENTS) {
		struct client *c = NULL;
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		pthread_mutex_lock(&fd_lock);
		int fd = (int)syscall(SYS_accept4, ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			struct stat st;
			fd = ctl_fd_high(fd);
			ctl_sys_fstat(fd, &st);
			c->fd = fd;
			c->dev = st.st_dev;
			c->ino = st.st_ino;
			nclients++;
		}
		pthread_mutex_unlock(&fd_lock);
		if (fd < 0)
			return;
		char why[160];
		c->writing = 0;
		c->in_len = 0;
		c->deadline = ctl_now_ns() + (uint64_t)READ_MS * 1000000u;
		jb_init(&c->out, ANSWER_MAX);
		if (!peer_allowed(fd, why, sizeof why)) {
			jb_reset(&c->out);
			ctl_answer_error(&c->out, why);
			if (!c->out.bad)
				REAL(send)(fd, c->out.p, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
			client_drop(c);
		}
	}
}

/* ---- the endpoint ---------------------------------------------------------- */

/* The endpoint is gone or no longer ours: make a new one.  OLD_OURS says
 * whether the old fd is still ours (closed once the new one is there; kept
 * if none can be made, e.g. after the process dropped privileges). */
static void endpoint_renew(int old_ours)
{
	struct ctl_ep fresh;
	const char *why;
	pthread_mutex_lock(&fd_lock);
	if (ctl_ep_create(&fresh, &why) == 0) {
		if (old_ours && ep.fd >= 0)
			REAL(close)(ep.fd);
		ep = fresh;
	} else if (!old_ours) {
		ep.fd = -1;
	}
	pthread_mutex_unlock(&fd_lock);
}

static void endpoint_check(uint64_t now)
{
	if (now - last_check_ns < (uint64_t)CHECK_MS * 1000000u)
		return;
	last_check_ns = now;
	if (ep.fd < 0)
		endpoint_renew(0);
	else if (!ctl_ep_fd_ok(&ep))
		endpoint_renew(0);
	else if (!ctl_ep_path_ok(&ep))
		endpoint_renew(1);
}

/* Asked to stop: the endpoint goes, by this thread (see the top), and every
 * fd it owns that is still its own is closed. */
static void quit(void)
{
	pthread_mutex_lock(&fd_lock);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0) {
			pthread_mutex_unlock(&fd_lock);
			client_drop(&clients[i]);
			pthread_mutex_lock(&fd_lock);
		}
	ctl_ep_unlink(&ep);
	if (ctl_ep_fd_ok(&ep))
		REAL(close)(ep.fd);
	ep.fd = -1;
	pthread_mutex_unlock(&fd_lock);
}

static void *listener(void *unused)
{
	(void)unused;
	ctx_self.in_hook = 1;      /* for good: every hook passes through */
	REAL(prctl)(PR_SET_NAME, "ctxshim-ctl", 0, 0, 0);
	for (;;) {
		if (atomic_load(&stopping)) {
			quit();
			return NULL;
		}
		struct pollfd pf[MAX_CLIENTS + 1];
		struct client *who[MAX_CLIENTS + 1];
		int n = 0, listen_at = -1;
		uint64_t now = ctl_now_ns();
		uint64_t wait_ns = (uint64_t)CHECK_MS * 1000000u;

		if (ep.fd >= 0 && nclients < MAX_CLIENTS) {
			listen_at = n;
			pf[n].fd = ep.fd;
			pf[n].events = POLLIN;
			who[n++] = NULL;
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0)
				continue;
			if (c->deadline <= now) {
				client_drop(c);
				continue;
			}
			if (c->deadline - now < wait_ns)
				wait_ns = c->deadline - now;
			pf[n].fd = c->fd;
			pf[n].events = c->writing ? POLLOUT : POLLIN;
			who[n++] = c;
		}
		struct timespec wait = { (time_t)(wait_ns / 1000000000u),
					 (long)(wait_ns % 1000000000u) + 1000000 };
		if (wait.tv_nsec >= 1000000000) {
			wait.tv_sec++;
			wait.tv_nsec -= 1000000000;
		}
		int r = (int)syscall(SYS_ppoll, pf, (nfds_t)n, &wait, NULL, (size_t)8);
		now = ctl_now_ns();
		if (r < 0) {
			struct timespec pause = { 0, 10000000 };
			syscall(SYS_nanosleep, &pause, NULL);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct client *c = who[i];
			if (!c || !pf[i].revents || c->fd < 0)
				continue;
			if (!client_fd_ok(c))
				client_drop(c);
			else if (c->writing)
				client_write(c);
			else
				client_read(c);
		}
		if (listen_at >= 0 && pf[listen_at].revents) {
			if (!ctl_ep_fd_ok(&ep))
				last_check_ns = 0;    /* closed or reused by the program */
			else if (pf[listen_at].revents & POLLIN)
				accept_clients();
		}
		if (now - last_check_ns >= (uint64_t)CHECK_MS * 1000000u) {
			long code;
			if (ctl_left_alone(&code)) {
				/* The main thread is gone and the program has no
				 * thread left: end as the process would have ended. */
				atomic_store(&life, LIFE_SEALED);
				quit();
				if (code != 0)
					ctl_end_like_main(code);
				/* It called pthread_exit: returning lets glibc end
				 * the process as it would have (exit(0), the
				 * program's exit handlers run here). */
				ctx_self.in_hook = 0;
				return NULL;
			}
		}
		endpoint_check(now);
	}
}

/* Make this process's endpoint.  SWEEP: also clear the sockets dead
 * processes left.  1 when it is there. */
static int make_endpoint(int sweep)
{
	const char *why;
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	nclients = 0;
	if (ctl_ep_create(&ep, &why) < 0) {
		ctx_warn("CTXSHIM_CONTROL: no control endpoint: %s", why);
		return 0;
	}
	if (sweep)
		ctl_ep_sweep(&ep);
	return 1;
}

/* Remove the endpoint from this thread (no listener ever ran): only the
 * process that made it, only while the name and the fd are still its own. */
static void drop_endpoint(void)
{
	ctl_ep_unlink(&ep);
	if (ctl_ep_fd_ok(&ep))
		REAL(close)(ep.fd);
	ep.fd = -1;
}

/* Start the listener on the endpoint made.  1 when it runs. */
static int start_listener(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;

	atomic_store(&stopping, 0);
	last_check_ns = ctl_now_ns();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = REAL(pthread_create)(&th, &attr, listener, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	listener_th = th;
	if (rc != 0) {
		ctx_warn("CTXSHIM_CONTROL: cannot start the control thread");
		drop_endpoint();
	}
	return rc == 0;
}

/* Ask the listener to stop, wake it and wait for it (bounded: it may be
 * blocked on a lock the thread that called exit from a signal handler
 * holds).  Deadlines from the system call's clock: a faked clock would give
 * up at once and leave it running through the other libraries' teardown. */
static void stop_listener(void)
{
	atomic_store(&stopping, 1);
	if (pthread_equal(pthread_self(), listener_th))
		return;     /* exit() on the listener's own thread (it left alone) */
	uint64_t until_ns = ctl_raw_now_ns() + (uint64_t)JOIN_MS * 1000000u;
	/* Its poll() wakes when the listening socket is shut down; the fd is
	 * touched only under fd_lock, while it is certainly ours. */
	if (ctl_lock_until(&fd_lock, until_ns)) {
		if (ctl_ep_fd_ok(&ep))
			REAL(shutdown)(ep.fd, SHUT_RDWR);
		pthread_mutex_unlock(&fd_lock);
	}
	ctl_join_until(listener_th, until_ns);
}

/* The thread that made the listener: UP, unless the process sealed itself
 * meanwhile (then this one stops it). */
static void started(int ok)
{
	int expect = LIFE_STARTING;
	if (!atomic_compare_exchange_strong(&life, &expect, ok ? LIFE_UP : LIFE_NONE) && ok)
		stop_listener();
}

/* A forked child's first start: what fork left for now (fork_child). */
static void child_start(void)
{
	if (ctl_ep_fd_ok(&ep))
		REAL(close)(ep.fd);    /* the parent's endpoint */
	ep.fd = -1;
	ctl_threads_child_start();
}

void ctl_lazy_start(void)
{
	if (ctx_self.in_hook || ctx_self.in_core)
		return;     /* the shim's own call, or a handler that interrupted it */
	int saved = errno;
	if (ctl_getpid() == life_pid) {
		ctl_pending = 0;
		int bound = LIFE_BOUND, pending = LIFE_PENDING;
		ctx_self.in_hook++;
		if (atomic_compare_exchange_strong(&life, &bound, LIFE_STARTING))
			started(start_listener());
		else if (atomic_compare_exchange_strong(&life, &pending, LIFE_STARTING)) {
			child_start();
			started(make_endpoint(0) && start_listener());
		}
		ctx_self.in_hook--;
	}
	errno = saved;
}

/* Stop for good: no listener runs in this process (or its forked children)
 * from now on. */
static void seal(void)
{
	if (!ctl_on || ctl_getpid() != life_pid)
		return;     /* off, or a vforked child: the listener is its parent's */
	ctl_pending = 0;
	int was = atomic_exchange(&life, LIFE_SEALED);
	if (was == LIFE_UP) {
		stop_listener();
	} else if (was == LIFE_BOUND) {
		drop_endpoint();
	} else if (was == LIFE_PENDING) {
		if (ctl_ep_fd_ok(&ep))
			REAL(close)(ep.fd);    /* the parent's, inherited */
		ep.fd = -1;
	}
}

void ctl_seal(void)
{
	int saved = errno;
	if (!ctx_self.in_hook)
		seal();
	errno = saved;
}

/* ---- fork ------------------------------------------------------------------ */

/* A process that never had a second thread needs no lock: nothing else
 * can change the fds or the registry meanwhile.  Then nothing is written
 * here either. */
static void fork_prepare(void)
{
	if (__libc_single_threaded) {
		if (fork_locked)
			fork_locked = 0;
		return;
	}
	pthread_mutex_lock(&fd_lock);
	ctl_threads_fork_prepare();
	fork_locked = 1;
}

static void fork_parent(void)
{
	if (!fork_locked)
		return;
	ctl_threads_fork_parent();
	pthread_mutex_unlock(&fd_lock);
}

/* The child: the listener thread does not exist here, and its fds are the
 * parent's clients and endpoint.  This process's own endpoint and listener
 * are made at its first wait, or before it gives up its uid (ctl_hooks.c):
 * nginx's workers are reachable by their pid, a child that execs or exits
 * at once pays for nothing.  Only what must change is done now (pages
 * written here are copied): the parent's endpoint fd is closed at that
 * first start (or on sealing; it is close-on-exec).  Client buffers are
 * left, not freed: the listener may have been changing them when the fork
 * happened. */
static void fork_child(void)
{
	int saved = errno;
	life_pid = ctl_getpid();
	if (fork_locked)
		pthread_mutex_init(&fd_lock, NULL);
	for (int i = 0; i < MAX_CLIENTS && nclients > 0; i++) {
		struct client *c = &clients[i];
		if (c->fd < 0)
			continue;
		if (client_fd_ok(c))
			REAL(close)(c->fd);
		memset(c, 0, sizeof *c);
		c->fd = -1;
	}
	if (nclients)
		nclients = 0;
	if (atomic_load(&stopping))
		atomic_store(&stopping, 0);
	ctl_threads_fork_child(fork_locked, life_pid);
	if (atomic_load(&life) != LIFE_SEALED) {
		atomic_store(&life, LIFE_PENDING);
		ctl_pending = 1;
	}
	errno = saved;
}

/* ---- start-up and exit ------------------------------------------------------ */

/* At exit: the listener is stopped and joined, and it removes the socket
 * (only the process that made it, only while the name is still its
 * socket); nothing starts again during the rest of the exit. */
static void at_exit(void)
{
	ctl_seal();
}

void ctl_init(void)
{
	if (!on("CTXSHIM_CONTROL"))
		return;
	ctl_on = 1;
	ctl_trace_spawn = on("CTXSHIM_TRACE_SPAWN");
	/* Before any thread of ours exists: from now on a thread changing its
	 * context holds its peek flag meanwhile. */
	ctx_observed = 1;
	ctl_ep_settings();
	ctl_threads_init();
	life_pid = ctl_getpid();
	ctx_wait_fn = ctl_lazy_start;
	ctx_at_fork(fork_prepare, fork_parent, fork_child);
	/* Run at exit() before every library's destructor (which may tear
	 * down what the listener calls into). */
	atexit(at_exit);
	/* The endpoint now (so it is where clients look, and made while the
	 * process still has the uid it started with); the thread at the first
	 * wait (ctl_hooks.c): a program that never waits (a shell running
	 * commands, xargs, a short command) stays single-threaded, and its
	 * forks stay as cheap as without control.  A client that connects
	 * before is answered then. */
	if (make_endpoint(1)) {
		atomic_store(&life, LIFE_BOUND);
		ctl_pending = 1;
	}
}

/* The destructor is a second chance (exit paths that skip atexit handlers
 * but run destructors); at_exit has usually sealed everything already. */
__attribute__((destructor)) static void ctl_fini(void)
{
	ctl_seal();
}
