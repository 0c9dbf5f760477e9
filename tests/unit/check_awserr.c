/*
 * check_awserr.c - AWS error answers: CloudWatch JSON 1.0 (__type variants,
 * the x-amzn-query-error header), STS Query XML (ErrorResponse), the EC2
 * and S3 XML shapes, from saved samples in tests/data/aws/; and garbage of
 * every kind, which must give a clean "no code", never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "awserr.h"
#include "err.h"
#include "testlib.h"

static char *sample(const char *name, size_t *len)
{
	char rel[256];
	char *path, *text;

	snprintf(rel, sizeof(rel), "tests/data/aws/%s", name);
	path = cw_test_src(rel);
	ck_assert_ptr_nonnull(path);
	text = cw_test_slurp(path);
	ck_assert_msg(text != NULL, "missing sample %s", path);
	free(path);
	*len = strlen(text);
	return text;
}

static const struct {
	const char *file;
	const char *ctype;
	const char *qerr;
	const char *code, *type, *message, *request_id;
} samples[] = {
	{ "cloudwatch-resource-not-found.json", "application/x-amz-json-1.0", NULL,
	  "ResourceNotFound", "", "The named resource does not exist.", "" },
	{ "cloudwatch-throttling.json", "application/x-amz-json-1.0", NULL,
	  "ThrottlingException", "", "Rate exceeded", "" },
	/* the query-compatible header wins over __type */
	{ "cloudwatch-throttling.json", "application/x-amz-json-1.0", "Throttling;Sender",
	  "Throttling", "Sender", "Rate exceeded", "" },
	{ "cloudwatch-resource-not-found.json", NULL, "ResourceNotFound;Sender",
	  "ResourceNotFound", "Sender", "The named resource does not exist.", "" },
	{ "cloudwatch-invalid-parameter.json", "application/x-amz-json-1.0", NULL,
	  "InvalidParameterValueException", "",
	  "The value m-1 for parameter MetricDataQueries.member.1.Id is invalid.", "" },
	{ "cloudwatch-coral-suffix.json", "application/x-amz-json-1.0", NULL,
	  "AccessDeniedException", "",
	  "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: "
	  "cloudwatch:GetMetricData", "" },
	{ "sts-access-denied.xml", "text/xml", NULL, "AccessDenied", "Sender",
	  "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: "
	  "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/cwsweep-read",
	  "4b3e5c1a-8d2f-4f1e-9a7b-0c6d5e4f3a21" },
	{ "sts-region-disabled.xml", "text/xml", NULL, "RegionDisabledException", "Sender",
	  "STS is not activated in this region for account:111111111111. Your account "
	  "administrator can activate STS in this region using the IAM Console.",
	  "9f8e7d6c-5b4a-4392-8171-605f4e3d2c1b" },
	{ "sts-invalid-client-token.xml", NULL, NULL, "InvalidClientTokenId", "Sender",
	  "The security token included in the request is invalid.",
	  "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" },
	{ "sts-expired-token.xml", "text/xml", NULL, "ExpiredToken", "Sender",
	  "The security token included in the request is expired",
	  "11111111-2222-4333-8444-555555555555" },
	{ "sts-throttling.xml", "text/xml", NULL, "Throttling", "Sender", "Rate exceeded",
	  "66666666-7777-4888-9999-aaaaaaaaaaaa" },
	{ "ec2-request-limit.xml", "text/xml;charset=UTF-8", NULL, "RequestLimitExceeded", "",
	  "Request limit exceeded.", "ea966190-f9aa-478e-9ede-example" },
	{ "s3-slow-down.xml", "application/xml", NULL, "SlowDown", "",
	  "Please reduce your request rate.", "4442587FB7D0A2F9" },
};

START_TEST(test_samples)
{
	size_t i = (size_t)_i, len;
	char *body = sample(samples[i].file, &len);
	struct cw_awserr e;
	int rc = cw_awserr_parse(body, len, samples[i].ctype, samples[i].qerr, &e);

	ck_assert_msg(rc == 0, "%s: rc %d", samples[i].file, rc);
	ck_assert_str_eq(e.code, samples[i].code);
	ck_assert_str_eq(e.type, samples[i].type);
	ck_assert_str_eq(e.message, samples[i].message);
	ck_assert_str_eq(e.request_id, samples[i].request_id);
	free(body);
}
END_TEST

START_TEST(test_proxy_html)
{
	size_t len;
	char *body = sample("proxy-503.html", &len);
	struct cw_awserr e;

	ck_assert_int_eq(cw_awserr_parse(body, len, "text/html", NULL, &e), CW_ENOTFOUND);
	ck_assert_str_eq(e.code, "");
	ck_assert_str_eq(e.message, "");
	free(body);
}
END_TEST

static const struct {
	const char *body;
	const char *ctype, *qerr;
	int rc;
	const char *code, *message;
} inline_rows[] = {
	/* __type variants */
	{ "{\"__type\":\"Throttling\"}", NULL, NULL, 0, "Throttling", "" },
	{ "{\"__type\":\"a.b#c#LimitExceededException\",\"message\":\"x\"}", NULL, NULL, 0,
	  "LimitExceededException", "x" },
	{ "{\"__type\":\"ns#Code:\"}", NULL, NULL, 0, "Code", "" },
	{ "{\"__type\":\"#\"}", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "{\"__type\":\"\",\"message\":\"m\"}", NULL, NULL, CW_ENOTFOUND, "", "m" },
	{ "{\"code\":\"ValidationError\",\"message\":\"bad\"}", NULL, NULL, 0,
	  "ValidationError", "bad" },
	{ "  \n{\"__type\":\"X\",\"errorMessage\":\"em\"}", NULL, NULL, 0, "X", "em" },
	{ "{\"__type\":5,\"message\":[1]}", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "[\"__type\",\"Throttling\"]", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "{\"message\":\"tab\\there\\u0007bell\"}", NULL, "Throttling;Sender", 0,
	  "Throttling", "tab here bell" },
	{ "{\"__type\":\"Throttl", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "{}", "application/x-amz-json-1.0", NULL, CW_ENOTFOUND, "", "" },
	{ "null", "application/x-amz-json-1.0", NULL, CW_ENOTFOUND, "", "" },
	/* query-error header shapes */
	{ "", NULL, "Throttling;Sender", 0, "Throttling", "" },
	{ "", NULL, "AWS.SimpleQueueService.NonExistentQueue;Sender", 0,
	  "AWS.SimpleQueueService.NonExistentQueue", "" },
	{ "", NULL, "NoSemicolon", 0, "NoSemicolon", "" },
	{ "", NULL, ";Sender", CW_ENOTFOUND, "", "" },
	{ "", NULL, "", CW_ENOTFOUND, "", "" },
	{ "{\"__type\":\"A\"}", NULL, ";Sender", 0, "A", "" },
	/* XML shapes and breakage */
	{ "<ErrorResponse><Error><Code>A</Code><Message>m</Message></Error></ErrorResponse>",
	  NULL, NULL, 0, "A", "m" },
	{ "<ErrorResponse><Error><Code>Trunc</Code><Message>half", NULL, NULL, 0, "Trunc", "" },
	{ "<ErrorResponse><Error><Code>A", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "<Error><Code>  Spaced\n</Code></Error>", NULL, NULL, 0, "Spaced", "" },
	{ "<Code>NotUnderError</Code>", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "<Error><Detail><Code>Deep</Code></Detail></Error>", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "<Error><Code>A<b>B</b>C</Code></Error>", NULL, NULL, 0, "ABC", "" },
	{ "<Error><Code>&amp;&lt;</Code></Error>", NULL, NULL, 0, "&<", "" },
	{ "<Error><Code><![CDATA[Cdata]]></Code></Error>", NULL, NULL, 0, "Cdata", "" },
	{ "<Error><Code>First</Code><Code>Second</Code></Error>", NULL, NULL, 0, "First", "" },
	{ "<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
	  "<Error><Code>&b;</Code></Error>", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "<Error><Code>&undefined;</Code></Error>", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Error><Code>Caf\xe9</Code></Error>",
	  NULL, NULL, 0, "Caf\xc3\xa9", "" },
	/* nothing */
	{ "", NULL, NULL, CW_ENOTFOUND, "", "" },
	{ "   ", "application/x-amz-json-1.0", NULL, CW_ENOTFOUND, "", "" },
	{ "Service Unavailable", "text/plain", NULL, CW_ENOTFOUND, "", "" },
	{ "invalid_payload", NULL, NULL, CW_ENOTFOUND, "", "" },
};

START_TEST(test_inline)
{
	size_t i = (size_t)_i;
	struct cw_awserr e;
	int rc = cw_awserr_parse(inline_rows[i].body, strlen(inline_rows[i].body),
				 inline_rows[i].ctype, inline_rows[i].qerr, &e);

	ck_assert_msg(rc == inline_rows[i].rc, "row %zu: rc %d, want %d (code '%s')", i, rc,
		      inline_rows[i].rc, e.code);
	ck_assert_msg(strcmp(e.code, inline_rows[i].code) == 0, "row %zu: code '%s'", i, e.code);
	ck_assert_msg(strcmp(e.message, inline_rows[i].message) == 0, "row %zu: message '%s'", i,
		      e.message);
}
END_TEST

START_TEST(test_null_and_sizes)
{
	struct cw_awserr e;
	const char *doc = "{\"__type\":\"Throttling\"}";

	memset(&e, 'x', sizeof(e));
	ck_assert_int_eq(cw_awserr_parse(NULL, 100, NULL, NULL, &e), CW_ENOTFOUND);
	ck_assert_str_eq(e.code, "");
	ck_assert_str_eq(e.message, "");
	ck_assert_str_eq(e.request_id, "");
	/* len is honoured: the body need not be terminated */
	ck_assert_int_eq(cw_awserr_parse(doc, strlen(doc) - 3, NULL, NULL, &e), CW_ENOTFOUND);
	/* an embedded NUL ends nothing early and breaks nothing */
	ck_assert_int_eq(cw_awserr_parse("{\"__type\":\"A\0B\"}", 16, NULL, NULL, &e),
			 CW_ENOTFOUND);
}
END_TEST

/* Long and hostile field values: bounded, terminated, valid UTF-8 kept,
 * invalid bytes replaced, never cut inside a character. */
START_TEST(test_field_hygiene)
{
	struct cw_awserr e;
	char body[4096];
	char msg[1300];
	size_t n;

	/* a 1000-character message of 2-byte characters (é) */
	n = 0;
	for (int i = 0; i < 600; i++) {
		msg[n++] = '\xc3';
		msg[n++] = '\xa9';
	}
	msg[n] = '\0';
	snprintf(body, sizeof(body), "{\"__type\":\"%0200d\",\"message\":\"%s\"}", 7, msg);
	ck_assert_int_eq(cw_awserr_parse(body, strlen(body), NULL, NULL, &e), 0);
	ck_assert_uint_eq(strlen(e.code), sizeof(e.code) - 1);
	/* 511 bytes of room: 255 whole characters */
	ck_assert_uint_eq(strlen(e.message), 510);
	ck_assert_int_eq((unsigned char)e.message[509], 0xa9);

	/* invalid UTF-8 and control characters in the query header */
	ck_assert_int_eq(cw_awserr_parse("", 0, NULL, "Bad\xff\xfe\x01" "Code;Sen\nder", &e), 0);
	ck_assert_str_eq(e.code, "Bad?? Code");
	ck_assert_str_eq(e.type, "Sen der");
	/* an overlong encoding and a surrogate are invalid */
	ck_assert_int_eq(cw_awserr_parse("", 0, NULL, "A\xc0\xafZ\xed\xa0\x80;S", &e), 0);
	ck_assert_str_eq(e.code, "A??Z???");
}
END_TEST

/* Pseudo-random and mutated inputs: no crash, every field terminated. */
START_TEST(test_garbage)
{
	static const char *const seeds[] = {
		"{\"__type\":\"com.amazonaws.cloudwatch#ResourceNotFound\",\"message\":\"m\"}",
		"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
		"<Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>",
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[256];

	for (int round = 0; round < 4000; round++) {
		struct cw_awserr e;
		const char *seed = seeds[round % 2];
		size_t n = strlen(seed);

		memcpy(buf, seed, n);
		for (int k = 0; k < 1 + round % 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[x % n] = (char)(x >> 32);
		}
		if (round % 3 == 0)
			n = (size_t)(x >> 40) % n;
		buf[n] = '\0';
		(void)cw_awserr_parse(buf, n, round % 2 ? "text/xml" : NULL,
				      round % 5 == 0 ? buf : NULL, &e);
		ck_assert_uint_lt(strlen(e.code), sizeof(e.code));
		ck_assert_uint_lt(strlen(e.message), sizeof(e.message));
		ck_assert_uint_lt(strlen(e.request_id), sizeof(e.request_id));
		ck_assert_uint_lt(strlen(e.type), sizeof(e.type));
		for (const char *p = e.message; *p; p++)
			ck_assert_int_ge((unsigned char)*p, 0x20);
	}
}
END_TEST

static Suite *awserr_suite(void)
{
	Suite *s = suite_create("awserr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_samples, 0, (int)(sizeof(samples) / sizeof(samples[0])));
	tcase_add_loop_test(tc, test_inline, 0,
			    (int)(sizeof(inline_rows) / sizeof(inline_rows[0])));
	tcase_add_test(tc, test_proxy_html);
	tcase_add_test(tc, test_null_and_sizes);
	tcase_add_test(tc, test_field_hygiene);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(awserr_suite());
}
