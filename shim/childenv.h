/*
 * childenv.h: the environment a started program gets (hook_proc.c, used by
 * hook_shell.c too).  Everything lives in the struct, on the caller's stack:
 * an exec hook may run in a vforked child and must not allocate.
 */
#ifndef CTX_CHILDENV_H
#define CTX_CHILDENV_H

#include "baggage.h"

#include <stddef.h>

#define CHILDENV_SLOTS 512     /* larger environments use an mmap'ed array */

struct childenv {
	char bag[8 + BAG_MAX_BYTES + 1];   /* "BAGGAGE=..." */
	char preload[4096];                /* "LD_PRELOAD=..." */
	char *slots[CHILDENV_SLOTS];
	char **mapped;                     /* when the slots were too few */
	size_t mapped_len;
};

/* The environment for a child of the calling thread, built from ENVP; ENVP
 * itself when it needs no change (or when building fails). */
char *const *childenv_make(struct childenv *ce, char *const envp[]);
/* Free what childenv_make mapped (after a failed exec or after spawning). */
void childenv_done(struct childenv *ce);

#endif
