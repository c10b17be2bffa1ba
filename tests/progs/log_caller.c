/* log_caller: logs from two functions of its own (not exported), so the
 * names can only come from the symbol table. */
#include <stdio.h>
#include <unistd.h>

static int __attribute__((noinline)) handle_request(int n)
{
	/* the result is used: no tail call, the return address is here */
	return fprintf(stderr, "handling %d\n", n) > 0;
}

static void __attribute__((noinline)) finish_request(void)
{
	if (write(2, "finished\n", 9) != 9)
		_exit(70);
}

int main(void)
{
	int ok = handle_request(1);
	ok &= handle_request(2);
	finish_request();
	return !ok;
}
