/*
 * io.h: what io.c hands to the families that watch file descriptors.
 *
 * io.c owns the read/write/close family of hooks and dispatches on the
 * fd's bits (fdtab.h): FD_CONN to the sockets family (net_*), FD_LOG to the
 * logging family (log_*).  Each function is called with the recursion guard
 * clear and must behave, towards the program, exactly like the real call:
 * same return value for the program's bytes, errno kept.  The fd table
 * itself lives below every family (core/fdtab.h).
 */
#ifndef CTX_IO_H
#define CTX_IO_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Called at the end of ctx_init (settings are read, the core is ready). */
void log_init(void);
void net_init(void);

/* Logging: fd has FD_LOG.  io_caller (fdtab.h) is the return address of the
 * write or writev hook that dispatched here. */
ssize_t log_write(int fd, const void *buf, size_t n);
ssize_t log_writev(int fd, const struct iovec *iov, int cnt);
/* FD has FD_LOGQ (stdout/stderr not judged yet): decide whether it is a log
 * (log_fdkind.c); its new bits. */
int log_fd_decide(int fd);
void log_fd_dup(int old, int new);
/* FD, a log, is about to be closed or replaced (before the real call). */
void log_fd_closing(int fd);

/* Connections: fd has FD_CONN. */
ssize_t net_read(int fd, void *buf, size_t n);
ssize_t net_readv(int fd, const struct iovec *iov, int cnt);
ssize_t net_recv(int fd, void *buf, size_t n, int flags);
ssize_t net_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al);
ssize_t net_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t net_write(int fd, const void *buf, size_t n);
ssize_t net_writev(int fd, const struct iovec *iov, int cnt);
ssize_t net_send(int fd, const void *buf, size_t n, int flags);
ssize_t net_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al);
ssize_t net_sendmsg(int fd, const struct msghdr *msg, int flags);
/* sendfile/sendfile64 (WIDE) with OUT watched; OFF is the caller's. */
ssize_t net_sendfile(int out, int in, void *off, size_t n, int wide);

#endif
