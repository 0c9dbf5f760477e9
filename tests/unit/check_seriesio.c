/*
 * check_seriesio.c - reading series files: CSV (headers, time formats,
 * CRLF, gaps, errors with file:line) and get-metric-data JSON (newest
 * first, labels, pages merged by Id, status), and a real NAB file.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "seriesio.h"
#include "testlib.h"

#define DAY 86400
#define T20240301 1709251200 /* 2024-03-01T00:00:00Z */

static struct cw_named_series *parse(const char *text, const char *where, int64_t period,
				     size_t *n, char *err)
{
	struct cw_named_series *v = NULL;
	int rc = cw_seriesio_parse(text, strlen(text), where, period, &v, n, err, CW_ERRBUF);
	if (rc) {
		ck_assert_ptr_null(v);
		ck_assert_uint_eq(*n, 0);
	}
	return v;
}

START_TEST(test_csv_file)
{
	char *path = cw_test_src("tests/data/series/daily.csv");
	struct cw_named_series *v = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(cw_seriesio_read(path, 0, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "daily");
	ck_assert_str_eq(v[0].unit, "");
	ck_assert_str_eq(v[0].status, "");
	ck_assert_int_eq(v[0].s.period, DAY);
	ck_assert_int_eq(v[0].s.start, T20240301);
	ck_assert_uint_eq(v[0].s.n, 5); /* 03-01 .. 03-05, 03-04 a gap */
	ck_assert(v[0].s.values[0] == 100 && v[0].s.values[1] == 110 &&
		  v[0].s.values[2] == 90 && isnan(v[0].s.values[3]) &&
		  v[0].s.values[4] == 1000);
	ck_assert_uint_eq(cw_series_complete(&v[0].s), 5);
	cw_named_series_free(v, n);
	free(path);
}
END_TEST

START_TEST(test_csv_formats)
{
	/* no header, mixed time forms, quotes, spaces, comments, an empty value */
	const char *text =
		"# exported\n"
		"1709251200,1\n"
		"\"2024-03-01 01:00:00\", \"2\"\n"
		"2024-03-01T04:00:00+02:00,3\n" /* = 02:00Z */
		"2024-03-01T03:00:00.000Z,\n"
		"2024-03-01T04:00:00Z,null\n"
		"   \n"
		"2024-03-01T05:00:00Z,-4.5";
	size_t n;
	char err[CW_ERRBUF];
	struct cw_named_series *v = parse(text, "dir/x.y/hourly.data.csv", 0, &n, err);

	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_str_eq(v[0].name, "hourly.data");
	ck_assert_int_eq(v[0].s.period, 3600);
	ck_assert_uint_eq(v[0].s.n, 6);
	ck_assert(v[0].s.values[0] == 1 && v[0].s.values[1] == 2 && v[0].s.values[2] == 3);
	ck_assert(isnan(v[0].s.values[3]) && isnan(v[0].s.values[4]));
	ck_assert(v[0].s.values[5] == -4.5);
	cw_named_series_free(v, n);

	/* a UTF-8 BOM and a header; period forced to a day: last one wins */
	v = parse("\xEF\xBB\xBFtime,bytes\n2024-03-01T01:00:00Z,5\n2024-03-01T02:00:00Z,6\n",
		  "y.csv", DAY, &n, err);
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_int_eq(v[0].s.period, DAY);
	ck_assert_uint_eq(v[0].s.n, 1);
	ck_assert(v[0].s.values[0] == 6);
	cw_named_series_free(v, n);
}
END_TEST

START_TEST(test_csv_errors)
{
	size_t n;
	char err[CW_ERRBUF];

	ck_assert_ptr_null(parse("timestamp,value\n2024-03-01,1\nyesterday,2\n", "a.csv", 0,
				 &n, err));
	ck_assert_str_eq(err, "a.csv:3: bad timestamp 'yesterday'");
	ck_assert_ptr_null(parse("2024-03-01,1\r\n\r\n2024-03-02,12 GB\r\n", "b.csv", 0, &n,
				 err));
	ck_assert_str_eq(err, "b.csv:3: bad value '12 GB' (want a finite number; leave the cell empty for no datapoint)");
	ck_assert_ptr_null(parse("2024-03-01,1,2\n", "c.csv", 0, &n, err));
	ck_assert_str_eq(err, "c.csv:1: expected 2 columns (timestamp,value)");
	ck_assert_ptr_null(parse("2024-03-01\n", "d.csv", 0, &n, err));
	ck_assert_str_eq(err, "d.csv:1: expected 2 columns (timestamp,value)");
	ck_assert_ptr_null(parse("timestamp,value\n\n", "e.csv", 0, &n, err));
	ck_assert_str_eq(err, "e.csv: no datapoints");
	ck_assert_ptr_null(parse("", "f.csv", 0, &n, err));
	ck_assert_str_eq(err, "f.csv: no datapoints");
	ck_assert_ptr_null(parse("2024-03-01,inf\n", "g.csv", 0, &n, err));
	ck_assert_str_eq(err, "g.csv:1: bad value 'inf' (want a finite number; leave the cell empty for no datapoint)");
	/* nan alike: never a silent gap */
	ck_assert_ptr_null(parse("2024-03-01,1\n2024-03-02,nan\n", "h.csv", 0, &n, err));
	ck_assert_str_eq(err, "h.csv:2: bad value 'nan' (want a finite number; leave the cell empty for no datapoint)");
	/* a second header-like line is an error, not skipped */
	ck_assert_ptr_null(parse("timestamp,value\ntimestamp,value\n", "h.csv", 0, &n, err));
	ck_assert_str_eq(err, "h.csv:2: bad timestamp 'timestamp'");

	struct cw_named_series *v = NULL;
	ck_assert_int_eq(cw_seriesio_read("/nonexistent/x.csv", 0, &v, &n, err, sizeof(err)),
			 CW_ENOTFOUND);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.csv"));
}
END_TEST

START_TEST(test_json_file)
{
	char *path = cw_test_src("tests/data/series/get-metric-data.json");
	struct cw_named_series *v = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";

	ck_assert_msg(cw_seriesio_read(path, 0, &v, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 3);
	/* m0: two pages merged, newest first in the file, oldest first here */
	ck_assert_str_eq(v[0].name, "prod-assets BytesDownloaded");
	ck_assert_str_eq(v[0].status, "Complete");
	ck_assert_int_eq(v[0].s.period, DAY);
	ck_assert_int_eq(v[0].s.start, T20240301);
	ck_assert_uint_eq(v[0].s.n, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert(v[0].s.values[i] == 100.0 * (double)(i + 1));
	/* m1: empty label -> the Id; hourly */
	ck_assert_str_eq(v[1].name, "m1");
	ck_assert_int_eq(v[1].s.period, 3600);
	ck_assert(v[1].s.values[0] == 5 && v[1].s.values[1] == 7.5);
	/* m2: no data, status kept for the caller to report */
	ck_assert_str_eq(v[2].name, "denied");
	ck_assert_str_eq(v[2].status, "Forbidden");
	ck_assert_uint_eq(v[2].s.n, 0);
	ck_assert_uint_eq(cw_series_complete(&v[2].s), 0);
	cw_named_series_free(v, n);
	free(path);
}
END_TEST

START_TEST(test_json_errors)
{
	size_t n;
	char err[CW_ERRBUF];

	ck_assert_ptr_null(parse("{\"Messages\": []}", "a.json", 0, &n, err));
	ck_assert_ptr_nonnull(strstr(err, "a.json: no MetricDataResults or Datapoints array"));
	ck_assert_ptr_null(parse("{\"MetricDataResults\": [{\"Id\":\"m0\","
				 "\"Timestamps\":[\"2024-03-01T00:00:00Z\"],\"Values\":[]}]}",
				 "b.json", 0, &n, err));
	ck_assert_str_eq(err, "b.json: MetricDataResults[0] (m0): Timestamps and Values must "
			 "be arrays of the same length");
	ck_assert_ptr_null(parse("{\"MetricDataResults\": [{\"Id\":\"m0\","
				 "\"Timestamps\":[\"soon\"],\"Values\":[1]}]}",
				 "c.json", 0, &n, err));
	ck_assert_str_eq(err, "c.json: m0: Timestamps[0]: bad timestamp 'soon'");
	ck_assert_ptr_null(parse("{\"MetricDataResults\": [{\"Id\":\"m0\","
				 "\"Timestamps\":[1709251200],\"Values\":[\"x\"]}]}",
				 "d.json", 0, &n, err));
	ck_assert_str_eq(err, "d.json: m0: Values[0]: not a number");
	ck_assert_ptr_null(parse("{\"MetricDataResults\": [\n{\"Id\": }]}", "e.json", 0, &n,
				 err));
	ck_assert_ptr_nonnull(strstr(err, "e.json:2:"));
	ck_assert_ptr_null(parse("{\"MetricDataResults\": [{\"Label\":\"x\"}]}", "f.json", 0,
				 &n, err));
	ck_assert_str_eq(err, "f.json: MetricDataResults[0]: no Id");
	ck_assert_ptr_null(parse("  {\"MetricDataResults\": []}", "g.json", 0, &n, err));
	ck_assert_str_eq(err, "g.json: MetricDataResults is empty");

	/* epoch-number timestamps are accepted */
	struct cw_named_series *v =
		parse("{\"MetricDataResults\": [{\"Id\":\"m0\",\"Timestamps\":[1709251260,"
		      "1709251200],\"Values\":[2,1]}]}", "h.json", 0, &n, err);
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_int_eq(v[0].s.period, 60);
	ck_assert(v[0].s.values[0] == 1 && v[0].s.values[1] == 2);
	cw_named_series_free(v, n);
}
END_TEST

START_TEST(test_nab_file)
{
	if (!cw_test_data_present("nab-aws/ec2_cpu_utilization_24ae8d.csv")) {
		printf("SKIPPED: NAB series not found (set CW_TESTDATA to the shared test data)\n");
		return;
	}
	char *path = cw_test_data("nab-aws/ec2_cpu_utilization_24ae8d.csv");
	struct cw_named_series *v = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";

	ck_assert_msg(cw_seriesio_read(path, 0, &v, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "ec2_cpu_utilization_24ae8d");
	ck_assert_int_eq(v[0].s.period, 300);
	ck_assert_int_eq(v[0].s.start, 1392388200); /* 2014-02-14 14:30:00 */
	ck_assert(v[0].s.values[0] == 0.132);
	ck_assert_uint_ge(cw_series_count(&v[0].s, 0, v[0].s.n), 4000);
	cw_named_series_free(v, n);
	free(path);
}
END_TEST

/* get-metric-data: the CLI's default label (the metric name) repeats; the
 * series are then named "Label (Id)". */
START_TEST(test_json_repeated_labels)
{
	static const char doc[] =
		"{\"MetricDataResults\": ["
		"{\"Id\": \"prod\", \"Label\": \"BytesDownloaded\", \"StatusCode\": \"Complete\","
		" \"Timestamps\": [\"2024-01-02T00:00:00Z\", \"2024-01-01T00:00:00Z\"],"
		" \"Values\": [2, 1]},"
		"{\"Id\": \"dev\", \"Label\": \"BytesDownloaded\", \"StatusCode\": \"Complete\","
		" \"Timestamps\": [\"2024-01-02T00:00:00Z\", \"2024-01-01T00:00:00Z\"],"
		" \"Values\": [4, 3]},"
		"{\"Id\": \"x\", \"Label\": \"Other\", \"Timestamps\": [\"2024-01-01T00:00:00Z\"],"
		" \"Values\": [5]}]}";
	/* a third with the label after an unrelated one; prod's second page */
	static const char three[] =
		"{\"MetricDataResults\": ["
		"{\"Id\": \"prod\", \"Label\": \"BytesDownloaded\","
		" \"Timestamps\": [\"2024-01-02T00:00:00Z\"], \"Values\": [2]},"
		"{\"Id\": \"x\", \"Label\": \"Other\", \"Timestamps\": [\"2024-01-01T00:00:00Z\"],"
		" \"Values\": [5]},"
		"{\"Id\": \"dev\", \"Label\": \"BytesDownloaded\","
		" \"Timestamps\": [\"2024-01-01T00:00:00Z\"], \"Values\": [3]},"
		"{\"Id\": \"test\", \"Label\": \"BytesDownloaded\","
		" \"Timestamps\": [\"2024-01-01T00:00:00Z\"], \"Values\": [7]},"
		"{\"Id\": \"prod\", \"Label\": \"BytesDownloaded\","
		" \"Timestamps\": [\"2024-01-01T00:00:00Z\"], \"Values\": [1]}]}";
	char err[CW_ERRBUF] = "";
	size_t n = 0;
	struct cw_named_series *v = parse(doc, "g.json", 86400, &n, err);

	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].name, "BytesDownloaded (prod)");
	ck_assert_str_eq(v[1].name, "BytesDownloaded (dev)");
	ck_assert_str_eq(v[2].name, "Other");
	cw_named_series_free(v, n);

	v = parse(three, "h.json", 86400, &n, err);
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(v[0].name, "BytesDownloaded (prod)");
	ck_assert_uint_eq(v[0].s.n, 2); /* both pages */
	ck_assert_double_eq(v[0].s.values[0], 1);
	ck_assert_double_eq(v[0].s.values[1], 2);
	ck_assert_str_eq(v[1].name, "Other");
	ck_assert_str_eq(v[2].name, "BytesDownloaded (dev)");
	ck_assert_str_eq(v[3].name, "BytesDownloaded (test)");
	cw_named_series_free(v, n);
}
END_TEST

/* get-metric-statistics: Label and Datapoints in no order, the statistic
 * it holds, the unit; several statistics make several series. */
START_TEST(test_gms)
{
	static const char one[] =
		"{\"Label\": \"BytesDownloaded\", \"Datapoints\": ["
		"{\"Timestamp\": \"2024-01-03T00:00:00+00:00\", \"Sum\": 30.0, \"Unit\": \"Bytes\"},"
		"{\"Timestamp\": \"2024-01-01T00:00:00+00:00\", \"Sum\": 10.0, \"Unit\": \"Bytes\"},"
		"{\"Timestamp\": \"2024-01-02T00:00:00+00:00\", \"Sum\": 20.0, \"Unit\": \"Bytes\"}]}";
	static const char two[] =
		"{\"Label\": \"CPUUtilization\", \"Datapoints\": ["
		"{\"Timestamp\": \"2024-01-01T00:00:00Z\", \"Average\": 1.5, \"Maximum\": 9,"
		" \"ExtendedStatistics\": {\"p99\": 8.5}, \"Unit\": \"Percent\"},"
		"{\"Timestamp\": \"2024-01-01T01:00:00Z\", \"Average\": 2.5, \"Maximum\": 7,"
		" \"ExtendedStatistics\": {\"p99\": 6.5}, \"Unit\": \"Percent\"}]}";
	char err[CW_ERRBUF] = "";
	size_t n = 0;
	struct cw_named_series *v = parse(one, "d/gms.json", 0, &n, err);

	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "BytesDownloaded");
	ck_assert_str_eq(v[0].unit, "Bytes");
	ck_assert_int_eq(v[0].s.period, 86400);
	ck_assert_uint_eq(v[0].s.n, 3);
	ck_assert_double_eq(v[0].s.values[0], 10);
	ck_assert_double_eq(v[0].s.values[2], 30);
	cw_named_series_free(v, n);

	v = parse(two, "cpu.json", 0, &n, err);
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].name, "CPUUtilization Average");
	ck_assert_str_eq(v[1].name, "CPUUtilization Maximum");
	ck_assert_str_eq(v[2].name, "CPUUtilization p99");
	ck_assert_str_eq(v[2].unit, "Percent");
	ck_assert_double_eq(v[2].s.values[1], 6.5);
	cw_named_series_free(v, n);

	/* errors name the place */
	ck_assert_ptr_null(parse("{\"Label\": \"x\", \"Datapoints\": []}", "e.json", 0, &n, err));
	ck_assert_ptr_nonnull(strstr(err, "e.json: Datapoints: no datapoint"));
	ck_assert_ptr_null(parse("{\"Datapoints\": [{\"Sum\": 1}]}", "e.json", 0, &n, err));
	ck_assert_ptr_nonnull(strstr(err, "Datapoints[0]: no Timestamp"));
	ck_assert_ptr_null(parse("{\"Datapoints\": [{\"Timestamp\": \"2024-01-01T00:00:00Z\","
				 " \"Sum\": \"1\"}]}", "e.json", 0, &n, err));
	ck_assert_ptr_nonnull(strstr(err, "Datapoints[0].Sum: not a number"));
	ck_assert_ptr_null(parse("{\"Datapoints\": [7]}", "e.json", 0, &n, err));
	ck_assert_ptr_nonnull(strstr(err, "Datapoints[0]: not an object"));
}
END_TEST

static Suite *seriesio_suite(void)
{
	Suite *s = suite_create("seriesio");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_csv_file);
	tcase_add_test(tc, test_csv_formats);
	tcase_add_test(tc, test_csv_errors);
	tcase_add_test(tc, test_json_file);
	tcase_add_test(tc, test_json_errors);
	tcase_add_test(tc, test_nab_file);
	tcase_add_test(tc, test_json_repeated_labels);
	tcase_add_test(tc, test_gms);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(seriesio_suite());
}
