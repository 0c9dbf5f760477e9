/*
 * check_core.c - buf, timeutil, units, strutil, atomicio and log redaction.
 */
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "err.h"
#include "idxsort.h"
#include "log.h"
#include "strutil.h"
#include "testlib.h"
#include "timeutil.h"
#include "units.h"

START_TEST(buf_grows_and_caps)
{
	struct cw_buf b;

	cw_buf_init(&b, 10);
	ck_assert_str_eq(cw_buf_str(&b), "");
	ck_assert_int_eq(cw_buf_addstr(&b, "hello"), 0);
	ck_assert_int_eq(cw_buf_printf(&b, "%d", 1234), 0);
	ck_assert_str_eq(cw_buf_str(&b), "hello1234");
	ck_assert_uint_eq(b.len, 9);
	ck_assert_int_eq(cw_buf_addch(&b, 'x'), 0);
	/* the 11th byte passes the cap: the buffer is freed, not truncated */
	ck_assert_int_eq(cw_buf_addch(&b, 'y'), CW_ETOOBIG);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	cw_buf_release(&b);
}
END_TEST

/* Everything a sink was handed, in order. */
struct sink_log {
	char data[512];
	size_t len, calls;
};

static int log_sink(void *ctx, const char *data, size_t len)
{
	struct sink_log *l = ctx;

	ck_assert_uint_le(l->len + len, sizeof(l->data));
	memcpy(l->data + l->len, data, len);
	l->len += len;
	l->calls++;
	return 0;
}

/* cw_buf_addch behaves as cw_buf_add of one byte at every cap, allocation
 * size and sink threshold it can meet. */
START_TEST(buf_addch_as_add)
{
	for (size_t cap = 1; cap <= 140; cap += 3) {
		for (size_t at = 0; at <= 70; at += 7) {
			struct cw_buf a, b;
			struct sink_log la = { .len = 0 }, lb = { .len = 0 };

			cw_buf_init(&a, cap);
			cw_buf_init(&b, cap);
			if (at) {
				cw_buf_set_sink(&a, log_sink, &la, at);
				cw_buf_set_sink(&b, log_sink, &lb, at);
			}
			for (int i = 0; i < 300; i++) {
				char c = (char)('a' + i % 26);
				int ra = cw_buf_addch(&a, c), rb = cw_buf_add(&b, &c, 1);

				ck_assert_int_eq(ra, rb);
				ck_assert_uint_eq(a.len, b.len);
				ck_assert_uint_eq(a.alloc, b.alloc);
				if (a.data)
					ck_assert_mem_eq(a.data, b.data, a.len + 1);
				ck_assert_uint_eq(la.len, lb.len);
				ck_assert_uint_eq(la.calls, lb.calls);
				if (ra)
					break;
			}
			ck_assert_mem_eq(la.data, lb.data, la.len);
			cw_buf_release(&a);
			cw_buf_release(&b);
		}
	}
}
END_TEST

START_TEST(buf_detach_empty)
{
	struct cw_buf b = CW_BUF_INIT;
	size_t n = 99;
	char *s = cw_buf_detach(&b, &n);

	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(n, 0);
	free(s);
}
END_TEST

static const struct {
	const char *in;
	long long want; /* epoch seconds; -1 = must fail */
} time_cases[] = {
	{ "2014-02-14 14:30:00", 1392388200 },
	{ "2014-02-14T14:30:00Z", 1392388200 },
	{ "2014-02-14T14:30:00.123Z", 1392388200 },
	{ "2014-02-14T16:30:00+02:00", 1392388200 },
	{ "2014-02-14T09:30:00-0500", 1392388200 },
	{ "2014-02-14", 1392336000 },
	{ "1392388200", 1392388200 },
	{ "1392388200.5", 1392388200 },
	{ "  2014-02-14T14:30:00Z \r", 1392388200 },
	{ "2024-02-29", 1709164800 },
	{ "2023-02-29", -1 },
	{ "2014-13-01", -1 },
	{ "2014-02-14T25:00:00Z", -1 },
	{ "2014-02-14T14:30:00Q", -1 },
	{ "yesterday", -1 },
	{ "", -1 },
	{ "12ab", -1 },
};

/* idxsort: the order of a reference sort of (key, index) pairs, at sizes
 * around the merge widths, with many equal keys (stability). */
static int key_cmp(const void *ctx, uint32_t a, uint32_t b)
{
	const int *key = ctx;

	return (key[a] > key[b]) - (key[a] < key[b]);
}

static int pair_cmp(const void *a, const void *b)
{
	const int *x = a, *y = b;

	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	return (x[1] > y[1]) - (x[1] < y[1]);
}

START_TEST(idxsort_stable)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 8, 9, 64, 1000, 4097 };
	uint32_t seed = 99;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		int *key = malloc((n + 1) * sizeof(*key));
		int *pairs = malloc((n + 1) * 2 * sizeof(*pairs));
		uint32_t *ix = malloc((n + 1) * sizeof(*ix));

		ck_assert(key && pairs && ix);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			key[i] = (int)((seed >> 16) % 13); /* many ties */
			pairs[2 * i] = key[i];
			pairs[2 * i + 1] = (int)i;
			ix[i] = (uint32_t)(n - 1 - i); /* not the identity: ties keep this order */
		}
		ck_assert_int_eq(cw_idxsort(ix, n, key_cmp, key), 0);
		for (size_t i = 0; i < n; i++)
			pairs[2 * i + 1] = (int)(n - 1 - (size_t)pairs[2 * i + 1]);
		qsort(pairs, n, 2 * sizeof(*pairs), pair_cmp);
		for (size_t i = 0; i < n; i++)
			ck_assert_msg(ix[i] == n - 1 - (size_t)pairs[2 * i + 1],
				      "n=%zu: position %zu holds %u", n, i, ix[i]);
		free(key);
		free(pairs);
		free(ix);
	}
}
END_TEST

START_TEST(time_parse_table)
{
	int64_t t = 0;
	int rc = cw_time_parse(time_cases[_i].in, &t);

	if (time_cases[_i].want < 0) {
		ck_assert_msg(rc != 0, "%s should fail", time_cases[_i].in);
	} else {
		ck_assert_msg(rc == 0, "%s should parse", time_cases[_i].in);
		ck_assert_int_eq(t, time_cases[_i].want);
	}
}
END_TEST

START_TEST(time_format_and_floor)
{
	char buf[CW_TIME_ISO_LEN];

	ck_assert_str_eq(cw_time_iso(1392388200, buf, sizeof(buf)), "2014-02-14T14:30:00Z");
	ck_assert_str_eq(cw_time_date(1392388200, buf, sizeof(buf)), "2014-02-14");
	ck_assert_int_eq(cw_time_floor(1392388200, 86400), 1392336000);
	ck_assert_int_eq(cw_time_floor(-1, 86400), -86400);
	ck_assert_int_eq(cw_time_floor(86400, 86400), 86400);
}
END_TEST

START_TEST(units_bytes)
{
	double v;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_parse_bytes("100GB", &v, err, sizeof(err)), 0);
	ck_assert(v == 100e9);
	ck_assert_int_eq(cw_parse_bytes("1.5TiB", &v, err, sizeof(err)), 0);
	ck_assert(v == 1.5 * 1099511627776.0);
	ck_assert_int_eq(cw_parse_bytes("512 mb", &v, err, sizeof(err)), 0);
	ck_assert(v == 512e6);
	ck_assert_int_eq(cw_parse_bytes("42", &v, err, sizeof(err)), 0);
	ck_assert(v == 42);
	ck_assert_int_eq(cw_parse_bytes("1e9", &v, err, sizeof(err)), 0);
	ck_assert(v == 1e9);
	ck_assert_int_eq(cw_parse_bytes("10 parsecs", &v, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown size unit"));
	ck_assert_int_eq(cw_parse_bytes("nan", &v, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_parse_bytes("inf GB", &v, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_parse_bytes("0x10", &v, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_parse_bytes("", &v, err, sizeof(err)), CW_EINVAL);
}
END_TEST

START_TEST(units_duration_and_number)
{
	int64_t d;
	double v;
	char err[CW_ERRBUF], buf[32];

	ck_assert_int_eq(cw_parse_duration("7d", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d, 604800);
	ck_assert_int_eq(cw_parse_duration("1h", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d, 3600);
	ck_assert_int_eq(cw_parse_duration("2w", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d, 1209600);
	ck_assert_int_eq(cw_parse_duration("300", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d, 300);
	ck_assert_int_eq(cw_parse_duration("1.5s", &d, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_parse_duration("-1d", &d, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_parse_duration("3 fortnights", &d, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(cw_fmt_duration(604800, buf, sizeof(buf)), "1w");
	ck_assert_str_eq(cw_fmt_duration(86400, buf, sizeof(buf)), "1d");
	ck_assert_str_eq(cw_fmt_duration(90, buf, sizeof(buf)), "90s");
	ck_assert_int_eq(cw_parse_number("2.5", &v, err, sizeof(err)), 0);
	ck_assert(v == 2.5);
	ck_assert_int_eq(cw_parse_number("2.5x", &v, err, sizeof(err)), CW_EINVAL);
}
END_TEST

START_TEST(units_format)
{
	char buf[64], want[64];
	static const long long ints[] = { 0, 7, -7, 10, 99, 100, -100, 123456789012LL,
					  LLONG_MAX, LLONG_MIN };

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		snprintf(want, sizeof(want), "%lld", ints[i]);
		ck_assert_str_eq(cw_fmt_int(ints[i], buf, sizeof(buf)), want);
	}
	ck_assert_str_eq(cw_fmt_uint(ULLONG_MAX, buf, sizeof(buf)), "18446744073709551615");
	ck_assert_str_eq(cw_fmt_uint(0, buf, sizeof(buf)), "0");
	ck_assert_str_eq(cw_fmt_int(-12345, buf, 4), "-12"); /* cut as snprintf cuts */

	ck_assert_str_eq(cw_fmt_plain(123456789012.0, buf, sizeof(buf)), "123456789012");
	ck_assert_str_eq(cw_fmt_plain(0.1, buf, sizeof(buf)), "0.1");
	ck_assert_str_eq(cw_fmt_plain(-2.5, buf, sizeof(buf)), "-2.5");
	ck_assert_str_eq(cw_fmt_plain(NAN, buf, sizeof(buf)), "");
	ck_assert_str_eq(cw_fmt_plain(1.0 / 3.0, buf, sizeof(buf)), "0.3333333333333333");
	ck_assert_str_eq(cw_fmt_bytes(1234567890.0, buf, sizeof(buf)), "1.23 GB");
	ck_assert_str_eq(cw_fmt_bytes(999, buf, sizeof(buf)), "999 B");
	ck_assert_str_eq(cw_fmt_bytes(45.6e12, buf, sizeof(buf)), "45.6 TB");
}
END_TEST

START_TEST(strutil_misc)
{
	static const char *const keys[] = { "regions", "lookback_days", "period", NULL };
	char small[4];
	long long v;

	ck_assert_uint_eq(cw_edit_distance("kitten", "sitting"), 3);
	ck_assert_str_eq(cw_closest("region", keys), "regions");
	ck_assert_str_eq(cw_closest("lookback_day", keys), "lookback_days");
	ck_assert_ptr_null(cw_closest("zzzzzz", keys));
	ck_assert_uint_eq(cw_strlcpy(small, "abcdef", sizeof(small)), 6);
	ck_assert_str_eq(small, "abc");
	ck_assert(cw_str_ieq("FilterId", "filterid"));
	ck_assert_int_eq(cw_parse_i64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(cw_parse_i64("420", 0, 100, &v), CW_EINVAL);
	ck_assert_int_eq(cw_parse_i64("4x", 0, 100, &v), CW_EINVAL);
	ck_assert_int_eq(cw_parse_i64(" 4", 0, 100, &v), CW_EINVAL);
}
END_TEST

START_TEST(atomic_write_and_read)
{
	char *dir = cw_test_tmpdir(), *path, *nested, *data = NULL;
	char err[CW_ERRBUF];
	size_t len = 0;
	struct stat st;

	ck_assert_ptr_nonnull(dir);
	path = cw_asprintf("%s/state.json", dir);
	ck_assert_int_eq(cw_write_file_atomic(path, "{}\n", 3, 0600, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(cw_read_file(path, 1024, &data, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(data, "{}\n");
	ck_assert_uint_eq(len, 3);
	free(data);
	ck_assert_int_eq(cw_read_file(path, 2, &data, &len, err, sizeof(err)), CW_ETOOBIG);
	ck_assert_ptr_null(data);
	ck_assert_int_eq(cw_read_file(dir, 1024, &data, &len, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "is a directory"));
	nested = cw_asprintf("%s/a/b/c", dir);
	ck_assert_int_eq(cw_mkdirs(nested, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(nested, &st), 0);
	free(nested);
	free(path);
	path = cw_asprintf("%s/missing", dir);
	ck_assert_int_eq(cw_read_file(path, 1024, &data, &len, err, sizeof(err)), CW_ENOTFOUND);
	free(path);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A pid that is surely dead: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* Temporary names are fresh (O_EXCL): a link planted at the old guessable
 * name PATH.tmp.PID is neither followed nor overwritten. */
START_TEST(atomic_temp_never_follows_links)
{
	char *dir = cw_test_tmpdir(), *path, *planted, *target, *text;
	char err[CW_ERRBUF];
	struct cw_afile f;

	path = cw_asprintf("%s/report.md", dir);
	target = cw_test_write(dir, "victim", "untouched\n");
	planted = cw_asprintf("%s.tmp.%ld", path, (long)getpid());
	ck_assert_int_eq(symlink(target, planted), 0);
	ck_assert_int_eq(cw_write_file_atomic(path, "new\n", 4, 0644, err, sizeof(err)), 0);
	text = cw_test_slurp(target);
	ck_assert_str_eq(text, "untouched\n");
	free(text);
	text = cw_test_slurp(path);
	ck_assert_str_eq(text, "new\n");
	free(text);
	/* the name has the PID and six more characters */
	ck_assert_int_eq(cw_afile_open(&f, path, 0644, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(f.tmp, ".tmp."));
	ck_assert_uint_eq(strlen(f.tmp), strlen(planted) + 7);
	cw_afile_abort(&f);
	free(planted);
	free(target);
	free(path);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

/* Stale temporary files of dead runs go; a live writer's stay; a link is
 * removed, never its target. */
START_TEST(atomic_stale_temps_removed)
{
	char *dir = cw_test_tmpdir(), name[128], *keep[4], *target;
	char err[CW_ERRBUF];
	pid_t dead = dead_pid();
	size_t removed = 0;
	struct stat st;

	snprintf(name, sizeof(name), "report.csv.tmp.%ld", (long)dead);
	free(cw_test_write(dir, name, "old"));
	snprintf(name, sizeof(name), "report.json.tmp.%ld.Ab3xYz", (long)dead);
	free(cw_test_write(dir, name, "old"));
	target = cw_test_write(dir, "victim", "untouched");
	snprintf(name, sizeof(name), "%s/state.json.tmp.%ld.QQQQQQ", dir, (long)dead);
	ck_assert_int_eq(symlink(target, name), 0);
	snprintf(name, sizeof(name), "report.md.tmp.%ld.abcdef", (long)getppid());
	keep[0] = cw_test_write(dir, name, "live");           /* a live process */
	keep[1] = cw_test_write(dir, "notes.tmp.txt", "x");   /* not one of ours */
	snprintf(name, sizeof(name), "report.md.tmp.%ld.toolongname", (long)dead);
	keep[2] = cw_test_write(dir, name, "x");
	keep[3] = cw_test_write(dir, "report.md", "kept");
	ck_assert_int_eq(cw_remove_stale_temps(dir, NULL, &removed, err, sizeof(err)), 0);
	ck_assert_uint_eq(removed, 3);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(stat(keep[i], &st), 0);
		free(keep[i]);
	}
	ck_assert_int_eq(stat(target, &st), 0);
	free(target);
	/* by name: only that file's temporary files */
	snprintf(name, sizeof(name), "other.json.tmp.%ld.abcdef", (long)dead);
	keep[0] = cw_test_write(dir, name, "x");
	snprintf(name, sizeof(name), "state.json.tmp.%ld.abcdef", (long)dead);
	free(cw_test_write(dir, name, "x"));
	ck_assert_int_eq(cw_remove_stale_temps(dir, "state.json", &removed, err, sizeof(err)), 0);
	ck_assert_uint_eq(removed, 1);
	snprintf(name, sizeof(name), "report.html.tmp.%ld.abcdef", (long)dead);
	free(cw_test_write(dir, name, "x"));
	ck_assert_int_eq(cw_remove_stale_temps(dir, "report.", &removed, err, sizeof(err)), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(stat(keep[0], &st), 0);
	free(keep[0]);
	ck_assert_int_eq(cw_remove_stale_temps("/nonexistent/x", NULL, &removed, err, sizeof(err)), 0);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A FIFO at a path that is read whole is refused at once (no hang). */
START_TEST(atomic_read_fifo_refused)
{
	char *dir = cw_test_tmpdir(), *path = cw_asprintf("%s/state.json", dir), *data = NULL;
	char err[CW_ERRBUF];
	size_t len;

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(cw_read_file(path, 1024, &data, &len, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_ptr_null(data);
	free(path);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(redact_secrets)
{
	static const char *const inputs[] = {
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20150830/us-east-1/sts/aws4_request, Signature=abc\r\nHost: x",
		"X-Amz-Security-Token: IQoJb3JpZ2luX2VjE+/=SESSIONTOKEN\n",
		"{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG\", \"Token\":\"SESSIONTOKEN\"}",
		"<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey><SessionToken>SESSIONTOKEN</SessionToken>",
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\naws_session_token=SESSIONTOKEN\n",
		"posting to https://hooks.slack.com/services/T000/B000/XXXXSECRETPATH now",
		"Action=AssumeRoleWithWebIdentity&WebIdentityToken=SESSIONTOKEN&Version=2011-06-15",
	};
	char out[1024];

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		cw_redact(inputs[i], out, sizeof(out));
		ck_assert_msg(!strstr(out, "wJalrXUtnFEMI"), "secret key left in: %s", out);
		ck_assert_msg(!strstr(out, "SESSIONTOKEN"), "token left in: %s", out);
		ck_assert_msg(!strstr(out, "SECRETPATH"), "webhook path left in: %s", out);
		ck_assert_msg(!strstr(out, "Signature=abc"), "signature left in: %s", out);
		ck_assert_msg(strstr(out, "[REDACTED]"), "nothing redacted in: %s", out);
	}
	cw_redact("Host: monitoring.us-east-1.amazonaws.com", out, sizeof(out));
	ck_assert_str_eq(out, "Host: monitoring.us-east-1.amazonaws.com");
	cw_redact("Authorization: secret", out, 8);
	ck_assert_uint_eq(strlen(out), 7);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, buf_grows_and_caps);
	tcase_add_test(tc, buf_addch_as_add);
	tcase_add_test(tc, buf_detach_empty);
	tcase_add_test(tc, idxsort_stable);
	tcase_add_loop_test(tc, time_parse_table, 0,
			    (int)(sizeof(time_cases) / sizeof(time_cases[0])));
	tcase_add_test(tc, time_format_and_floor);
	tcase_add_test(tc, units_bytes);
	tcase_add_test(tc, units_duration_and_number);
	tcase_add_test(tc, units_format);
	tcase_add_test(tc, strutil_misc);
	tcase_add_test(tc, atomic_write_and_read);
	tcase_add_test(tc, atomic_temp_never_follows_links);
	tcase_add_test(tc, atomic_stale_temps_removed);
	tcase_add_test(tc, atomic_read_fifo_refused);
	tcase_add_test(tc, redact_secrets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(core_suite());
}
