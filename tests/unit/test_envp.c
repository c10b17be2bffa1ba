/* test_envp.c: building a child's environment (shim/envp.c). */
#include "envp.h"
#include "unit.h"

int main(void)
{
	char *env[] = { "PATH=/bin", "BAGGAGE=stale=1", "LD_PRELOAD=/x/liba.so", "HOME=/h",
			"CTXSHIM_MODE=share", NULL };
	const char *carry[] = { "CTXSHIM_MODE=chain", "CTXSHIM_LOG=stderr", NULL };
	char *out[16];
	char pre[256];

	EXPECT(envp_count(env) == 5);
	EXPECT(envp_count(NULL) == 0);
	EXPECT_STR(envp_get(env, "HOME"), "/h");
	EXPECT(envp_get(env, "HOM") == NULL);
	EXPECT(envp_get(NULL, "HOME") == NULL);

	EXPECT(envp_preload_has("/x/liba.so /y/libctxshim.so", "/build/libctxshim.so"));
	EXPECT(envp_preload_has("libctxshim.so", "/build/libctxshim.so"));
	EXPECT(envp_preload_has("/a.so:/b/libctxshim.so", "/build/libctxshim.so"));
	EXPECT(!envp_preload_has("/x/libctxshim.so.old", "/build/libctxshim.so"));
	EXPECT(!envp_preload_has(NULL, "/build/libctxshim.so"));
	EXPECT(!envp_preload_has("", "/build/libctxshim.so"));

	EXPECT_STR(envp_preload_kv(pre, sizeof pre, "/x/liba.so", "/s/libctxshim.so"),
		   "LD_PRELOAD=/x/liba.so:/s/libctxshim.so");
	EXPECT_STR(envp_preload_kv(pre, sizeof pre, NULL, "/s/libctxshim.so"),
		   "LD_PRELOAD=/s/libctxshim.so");
	EXPECT(envp_preload_kv(pre, 10, NULL, "/s/libctxshim.so") == NULL);

	ssize_t n = envp_build(out, 16, env, "BAGGAGE=request_id=1", 1, pre, carry);
	EXPECT(n == 6);
	EXPECT_STR(out[0], "PATH=/bin");
	EXPECT_STR(out[1], "HOME=/h");
	EXPECT_STR(out[2], "CTXSHIM_MODE=share");     /* the caller's own setting wins */
	EXPECT_STR(out[3], "BAGGAGE=request_id=1");
	EXPECT_STR(out[4], "LD_PRELOAD=/s/libctxshim.so");
	EXPECT_STR(out[5], "CTXSHIM_LOG=stderr");      /* carried: the caller lacked it */
	EXPECT(out[n] == NULL);

	/* No context: a stale BAGGAGE is dropped, LD_PRELOAD kept when not replaced. */
	n = envp_build(out, 16, env, NULL, 1, NULL, NULL);
	EXPECT(n == 4);
	EXPECT_STR(out[1], "LD_PRELOAD=/x/liba.so");
	EXPECT(out[4] == NULL);

	/* Too small an array fails rather than overflow. */
	EXPECT(envp_build(out, 3, env, NULL, 1, NULL, NULL) == -1);
	/* BAGGAGE kept when the context could not be read (drop_bag 0). */
	n = envp_build(out, 16, env, NULL, 0, NULL, NULL);
	EXPECT(n == 5);
	EXPECT_STR(out[1], "BAGGAGE=stale=1");
	/* An empty environment. */
	EXPECT(envp_build(out, 16, NULL, "BAGGAGE=a=1", 1, NULL, NULL) == 1);
	UNIT_DONE("envp");
}
