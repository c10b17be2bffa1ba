/*
 * dl_plugin: loads a plugin with dlopen (RTLD_LOCAL) and runs it; the
 * plugin is what uses an event-loop library, loaded only now.
 * Usage: dl_plugin PATH.so
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	int (*run)(void) = (int (*)(void))dlsym(h, "run");
	int rc = run ? run() : 1;
	fflush(stdout);
	return rc;
}
