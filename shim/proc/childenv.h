/*
 * childenv.h: the environment a started program gets (proc.c, used by
 * shell.c too).  An exec hook may run in a vforked child, on a thread
 * with a small stack, or in a signal handler: no malloc, and little stack.
 * The common sizes fit in the struct (about 3 kB); a larger context or
 * environment takes one anonymous mapping, freed by childenv_done (after a
 * successful exec from a vforked child that mapping stays in the parent: a
 * few kB, only for contexts or environments that large).
 */
#ifndef CTX_CHILDENV_H
#define CTX_CHILDENV_H

#include <stddef.h>

#define CHILDENV_SLOTS 160
#define CHILDENV_TEXT 1536

struct childenv {
	char text[CHILDENV_TEXT];       /* "BAGGAGE=..." and "LD_PRELOAD=..." */
	char *slots[CHILDENV_SLOTS];
	void *mapped;                   /* when those were too small */
	size_t mapped_len;
};

/* The environment for a child of the calling thread, built from ENVP; ENVP
 * itself when it needs no change (or when building fails). */
char *const *childenv_make(struct childenv *ce, char *const envp[]);
/* 1 when ENVP needs no change for a child of the calling thread. */
int childenv_is_right(char *const envp[]);
/* Free what childenv_make mapped (after a failed exec or after spawning). */
void childenv_done(struct childenv *ce);

#endif
