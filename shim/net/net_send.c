/*
 * net_send.c: the write hooks' entry points for watched connections (io.h):
 * each call becomes one struct net_call for net_out (net_http.c), which
 * follows the output and adds what the connection needs.
 */
#include "net.h"
#include "hooks.h"

ssize_t net_write(int fd, const void *buf, size_t n)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return REAL(write)(fd, buf, n);
	struct net_call k = { .how = NET_WRITE, .buf = buf, .n = n };
	return net_out(fd, c, &k);
}

ssize_t net_writev(int fd, const struct iovec *iov, int cnt)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return REAL(writev)(fd, iov, cnt);
	struct net_call k = { .how = NET_WRITEV, .iov = iov, .cnt = cnt };
	return net_out(fd, c, &k);
}

ssize_t net_send(int fd, const void *buf, size_t n, int flags)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return REAL(send)(fd, buf, n, flags);
	struct net_call k = { .how = NET_SEND, .buf = buf, .n = n, .flags = flags };
	return net_out(fd, c, &k);
}

ssize_t net_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
		   socklen_t al)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return REAL(sendto)(fd, buf, n, flags, a, al);
	struct net_call k = { .how = NET_SENDTO, .buf = buf, .n = n, .flags = flags,
			      .addr = a, .alen = al };
	return net_out(fd, c, &k);
}

ssize_t net_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return REAL(sendmsg)(fd, msg, flags);
	struct net_call k = { .how = NET_SENDMSG, .msg = msg, .flags = flags };
	return net_out(fd, c, &k);
}

