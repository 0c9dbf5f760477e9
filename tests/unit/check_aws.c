/*
 * check_aws.c - the run-wide parse bound of the AWS layer: the cost
 * estimate is an upper bound of what jansson really allocates (checked
 * against the process's own peak memory for the costliest shapes), and
 * take / give wait for each other, refuse what alone passes the bound,
 * and stop when asked.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "err.h"
#include "testlib.h"

/* n bytes of "[U,U,...,U]" */
static char *repeated(const char *unit, size_t n, size_t *len)
{
	size_t ul = strlen(unit), o = 0;
	char *b = malloc(n + ul + 4);

	ck_assert_ptr_nonnull(b);
	b[o++] = '[';
	while (o + ul + 2 < n) {
		memcpy(b + o, unit, ul);
		o += ul;
		b[o++] = ',';
	}
	b[o - 1] = ']';
	b[o] = '\0';
	*len = o;
	return b;
}

static long peak_kb(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return r.ru_maxrss;
}

/* The estimate covers what parsing really took, shape by shape. */
START_TEST(test_cost_is_an_upper_bound)
{
	static const char *const units[] = { "{}", "[]", "1", "\"a\"", "{\"k\":1}" };
	size_t len;
	char *b = repeated(units[_i], 4u << 20, &len);
	long before = peak_kb();
	json_error_t je;
	json_t *j = json_loadb(b, len, 0, &je);
	long grown = peak_kb() - before;

	ck_assert_ptr_nonnull(j);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	grown = 0; /* a sanitizer's redzones and shadow memory are not the program's */
#endif
	ck_assert_msg((size_t)grown * 1024 <= cw_json_parse_cost(b, len),
		      "%s: parse took %ld KiB, estimate %zu KiB", units[_i], grown,
		      cw_json_parse_cost(b, len) >> 10);
	json_decref(j);
	free(b);
}
END_TEST

struct taker {
	struct cw_aws_ctx *ctx;
	atomic_bool stop;
	atomic_int done;
	int rc;
};

static void *take_in_thread(void *arg)
{
	struct taker *t = arg;

	t->rc = cw_aws_parse_memory_take(t->ctx, 600, &t->stop);
	atomic_store(&t->done, 1);
	return NULL;
}

START_TEST(test_take_and_give)
{
	struct cw_aws_opts o;
	struct cw_aws_ctx *ctx;
	struct taker t;
	pthread_t th;

	memset(&o, 0, sizeof(o));
	o.response_memory = 1000;
	ck_assert_int_eq(cw_aws_ctx_new(&ctx, &o), 0);
	ck_assert_int_eq(cw_aws_parse_memory_take(ctx, 1001, NULL), CW_ETOOBIG);
	ck_assert_int_eq(cw_aws_parse_memory_take(ctx, 600, NULL), 0);
	/* a second 600 waits until the first is given back */
	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	atomic_init(&t.stop, false);
	atomic_init(&t.done, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, take_in_thread, &t), 0);
	usleep(150 * 1000);
	ck_assert_int_eq(atomic_load(&t.done), 0);
	cw_aws_parse_memory_give(ctx, 600);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(t.rc, 0);
	/* and a wait ends when asked to stop */
	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	atomic_init(&t.stop, false);
	ck_assert_int_eq(pthread_create(&th, NULL, take_in_thread, &t), 0);
	usleep(50 * 1000);
	atomic_store(&t.stop, true);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(t.rc, CW_EINTR);
	cw_aws_parse_memory_give(ctx, 600);
	cw_aws_ctx_free(ctx);
	/* no bound: free */
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(cw_aws_ctx_new(&ctx, &o), 0);
	ck_assert_int_eq(cw_aws_parse_memory_take(ctx, (size_t)1 << 40, NULL), 0);
	cw_aws_ctx_free(ctx);
}
END_TEST

static Suite *aws_suite(void)
{
	Suite *s = suite_create("aws");
	TCase *tc = tcase_create("aws");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_cost_is_an_upper_bound, 0, 5);
	tcase_add_test(tc, test_take_and_give);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(aws_suite());
}
