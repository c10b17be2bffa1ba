/*
 * fdtab.c: the fd table (fdtab.h) and what happens when an fd stops being
 * what a family knew it as.
 *
 * The table sits below the families that set its bits (log/, net/) and the
 * hooks that read it (io/): a family that finds a number it watched reused
 * (a log file opened on a closed connection's number) forgets the old
 * owner's state through fdtab_forget, without knowing the other families.
 */
#include "core.h"
#include "fdtab.h"

_Atomic uint8_t fdtab[FDTAB_MAX];
uint8_t fdtab_default[3];
__thread void *io_caller CTX_TLS;

/* Per bit, the family's "this fd is no longer yours" (set at start-up). */
static void (*closers[2])(int fd);

void fdtab_on_forget(unsigned bit, void (*fn)(int fd))
{
	if (bit & (FD_LOG | FD_LOGQ))
		closers[0] = fn;
	else if (bit == FD_CONN)
		closers[1] = fn;
}

void fdtab_forget(int fd)
{
	unsigned k = fdtab_get(fd);
	if (likely(!k))
		return;
	fdtab_unset(fd, k);
	if ((k & FD_CONN) && closers[1])
		closers[1](fd);
	if ((k & (FD_LOG | FD_LOGQ)) && closers[0])
		closers[0](fd);
}
