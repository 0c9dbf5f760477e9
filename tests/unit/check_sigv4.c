/*
 * check_sigv4.c - SigV4 signer: the official aws-c-auth suite (read from
 * $CW_TESTDATA/sigv4-suite, skipped loudly when absent), the project's own
 * botocore-signed vectors (tests/data/sigv4/vectors.json, made by
 * scripts/gen-sigv4-vectors.py), and hand-checked edge cases.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "err.h"
#include "sigv4.h"
#include "testlib.h"
#include "timeutil.h"

#define SUITE_MIN_CASES 38
#define VECTORS_MIN 14

/* The AWS documentation example (also the suite's get-vanilla). */
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EX_TIME 1440938160 /* 2015-08-30T12:36:00Z */

static void base_input(struct cw_sigv4_input *in, const struct cw_sig_header *h, size_t nh)
{
	memset(in, 0, sizeof(*in));
	in->method = "GET";
	in->path = "/";
	in->query = "";
	in->headers = h;
	in->nheaders = nh;
	in->region = "us-east-1";
	in->service = "service";
	in->time = EX_TIME;
	in->access_key = "AKIDEXAMPLE";
	in->secret_key = EX_SECRET;
	in->normalize_path = true;
	in->sign_session_token = true;
}

static const struct cw_sig_header host_only[] = { { "Host", "example.amazonaws.com" } };

/* Sign and return the canonical request (malloc'd), failing the test on error. */
static char *canon(const struct cw_sigv4_input *in)
{
	struct cw_sigv4_output out;
	char err[CW_ERRBUF];
	char *cr;
	int rc = cw_sigv4_sign(in, &out, err, sizeof(err));

	ck_assert_msg(rc == 0, "sign failed: %s", err);
	cr = strdup(cw_buf_str(&out.canonical_request));
	cw_sigv4_output_release(&out);
	ck_assert_ptr_nonnull(cr);
	return cr;
}

/* Second line of a canonical request (the URI) or the third (the query). */
static void canon_line(const struct cw_sigv4_input *in, int line, char *dst, size_t len)
{
	char *cr = canon(in), *p = cr, *nl;
	int i;

	for (i = 0; i < line; i++) {
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	snprintf(dst, len, "%s", p);
	free(cr);
}

/* ---- hand-checked ------------------------------------------------------- */

START_TEST(test_sha256)
{
	char h[65];

	cw_sha256_hex("abc", 3, h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cw_sha256_hex(NULL, 0, h);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_uri_encode)
{
	struct cw_buf b = CW_BUF_INIT;
	const char in[] = "a b/c+d=e~f-_.\xe1\x88\xb4%";

	ck_assert_int_eq(cw_uri_encode(&b, in, strlen(in), true), 0);
	ck_assert_str_eq(cw_buf_str(&b), "a%20b/c%2Bd%3De~f-_.%E1%88%B4%25");
	cw_buf_reset(&b);
	ck_assert_int_eq(cw_uri_encode(&b, in, strlen(in), false), 0);
	ck_assert_str_eq(cw_buf_str(&b), "a%20b%2Fc%2Bd%3De~f-_.%E1%88%B4%25");
	cw_buf_release(&b);
}
END_TEST

/* The AWS documentation's GET example, independent of the suite files. */
START_TEST(test_doc_example)
{
	struct cw_sigv4_input in;
	struct cw_sigv4_output out;
	char err[CW_ERRBUF];

	base_input(&in, host_only, 1);
	ck_assert_int_eq(cw_sigv4_sign(&in, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.amz_date, "20150830T123600Z");
	ck_assert_str_eq(cw_buf_str(&out.canonical_request),
			 "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
			 "host;x-amz-date\n"
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(cw_buf_str(&out.string_to_sign),
			 "AWS4-HMAC-SHA256\n20150830T123600Z\n"
			 "20150830/us-east-1/service/aws4_request\n"
			 "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	ck_assert_str_eq(out.signature,
			 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ck_assert_str_eq(cw_buf_str(&out.authorization),
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
			 "aws4_request, SignedHeaders=host;x-amz-date, Signature="
			 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	cw_sigv4_output_release(&out);
}
END_TEST

/* Sign in with keys (NULL: none) and return the signature (malloc'd). */
static char *signature(const struct cw_sigv4_input *in0, struct cw_sigv4_keys *keys)
{
	struct cw_sigv4_input in = *in0;
	struct cw_sigv4_output out;
	char err[CW_ERRBUF];
	char *sig;

	in.keys = keys;
	ck_assert_msg(cw_sigv4_sign(&in, &out, err, sizeof(err)) == 0, "sign failed: %s", err);
	sig = strdup(out.signature);
	cw_sigv4_output_release(&out);
	ck_assert_ptr_nonnull(sig);
	return sig;
}

/* A kept key is used only for its secret, day, region and service, and
 * keys pushed out by newer ones are derived again. */
START_TEST(test_key_cache)
{
	static const char *const secrets[] = { EX_SECRET, "another-secret", "another-secre" };
	static const char *const regions[] = { "us-east-1", "eu-west-1" };
	static const char *const services[] = { "service", "monitoring" };
	static const int64_t times[] = { EX_TIME, EX_TIME + 86400 };
	struct cw_sigv4_keys *keys = NULL;
	struct cw_sigv4_input in;
	char region[32];

	ck_assert_int_eq(cw_sigv4_keys_new(&keys), 0);
	base_input(&in, host_only, 1);
	for (int round = 0; round < 2; round++)
		for (size_t a = 0; a < 3; a++)
			for (size_t b = 0; b < 2; b++)
				for (size_t c = 0; c < 2; c++)
					for (size_t d = 0; d < 2; d++) {
						char *want, *got;

						in.secret_key = secrets[a];
						in.region = regions[b];
						in.service = services[c];
						in.time = times[d];
						want = signature(&in, NULL);
						got = signature(&in, keys);
						ck_assert_str_eq(got, want);
						free(got);
						free(want);
					}
	/* more keys than are kept: the oldest are derived again, rightly */
	base_input(&in, host_only, 1);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 150; i++) {
			char *want, *got;

			snprintf(region, sizeof(region), "xx-test-%d", i);
			in.region = region;
			want = signature(&in, NULL);
			got = signature(&in, keys);
			ck_assert_str_eq(got, want);
			free(got);
			free(want);
		}
	cw_sigv4_keys_free(keys);
	cw_sigv4_keys_free(NULL);
}
END_TEST

START_TEST(test_paths)
{
	static const struct { const char *path; bool norm; const char *want; } cases[] = {
		{ "", true, "/" },
		{ NULL, true, "/" },
		{ "/a/./b/../c", true, "/a/c" },
		{ "/a/b/..", true, "/a" },
		{ "/a/b/../", true, "/a/" },
		{ "/../../x", true, "/x" },
		{ "//a///b//", true, "/a/b/" },
		{ "/a%20b", true, "/a%2520b" },
		{ "/a b/", false, "/a%20b/" },
		{ "/a/../b", false, "/a/../b" },
		{ "/~user/x-y_z.", true, "/~user/x-y_z." },
	};
	struct cw_sigv4_input in;
	char line[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base_input(&in, host_only, 1);
		in.path = cases[i].path;
		in.normalize_path = cases[i].norm;
		canon_line(&in, 1, line, sizeof(line));
		ck_assert_msg(strcmp(line, cases[i].want) == 0, "path %s: got %s, want %s",
			      cases[i].path ? cases[i].path : "(null)", line, cases[i].want);
	}
}
END_TEST

START_TEST(test_queries)
{
	static const struct { const char *q; const char *want; } cases[] = {
		{ NULL, "" },
		{ "", "" },
		{ "b=2&a=1", "a=1&b=2" },
		{ "a=2&a=1&a=10", "a=1&a=10&a=2" },
		{ "flag&a=1", "a=1&flag=" },
		{ "a=&b", "a=&b=" },
		{ "&&a=1&", "a=1" },
		{ "k=a b+c", "k=a%20b%2Bc" },
		{ "k=%7e%41%2f", "k=~A%2F" },
		{ "k=%zz%4", "k=%25zz%254" },
		{ "x=a=b", "x=a%3Db" },
		{ "B=1&a=1", "B=1&a=1" }, /* byte order: upper case first */
	};
	struct cw_sigv4_input in;
	char line[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base_input(&in, host_only, 1);
		in.query = cases[i].q;
		canon_line(&in, 2, line, sizeof(line));
		ck_assert_msg(strcmp(line, cases[i].want) == 0, "query %s: got %s, want %s",
			      cases[i].q ? cases[i].q : "(null)", line, cases[i].want);
	}
}
END_TEST

START_TEST(test_headers_fold)
{
	static const struct cw_sig_header h[] = {
		{ "X-B", "  two \t  words  " },
		{ "host", "example.amazonaws.com" },
		{ "x-a", "first" },
		{ "X-A", "second" },
		{ "x-c", "" },
		{ "x-m", "line1\r\n  line2\n\tline3" },
	};
	struct cw_sigv4_input in;
	char *cr;

	base_input(&in, h, sizeof(h) / sizeof(h[0]));
	cr = canon(&in);
	ck_assert_str_eq(cr, "GET\n/\n\nhost:example.amazonaws.com\nx-a:first,second\n"
			 "x-amz-date:20150830T123600Z\nx-b:two words\nx-c:\n"
			 "x-m:line1 line2 line3\n\nhost;x-a;x-amz-date;x-b;x-c;x-m\n"
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(cr);
}
END_TEST

START_TEST(test_token_and_payload)
{
	struct cw_sigv4_input in;
	struct cw_sigv4_output out;
	char err[CW_ERRBUF];

	base_input(&in, host_only, 1);
	in.method = "POST";
	in.payload = "Param1=value1";
	in.payload_len = 13;
	in.session_token = "tok+/=";
	in.sign_content_sha256 = true;
	ck_assert_int_eq(cw_sigv4_sign(&in, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.payload_hash,
			 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
	ck_assert_str_eq(cw_buf_str(&out.canonical_request),
			 "POST\n/\n\nhost:example.amazonaws.com\n"
			 "x-amz-content-sha256:"
			 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
			 "x-amz-date:20150830T123600Z\nx-amz-security-token:tok+/=\n\n"
			 "host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n"
			 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
	cw_sigv4_output_release(&out);

	in.sign_session_token = false;
	in.sign_content_sha256 = false;
	ck_assert_int_eq(cw_sigv4_sign(&in, &out, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(cw_buf_str(&out.canonical_request), "tok+/="));
	ck_assert_ptr_nonnull(strstr(cw_buf_str(&out.authorization),
				     "SignedHeaders=host;x-amz-date, "));
	cw_sigv4_output_release(&out);
}
END_TEST

/* Date rolls over at midnight UTC: scope date and x-amz-date agree. */
START_TEST(test_time)
{
	struct cw_sigv4_input in;
	struct cw_sigv4_output out;
	char err[CW_ERRBUF];

	base_input(&in, host_only, 1);
	in.time = 1738367999; /* 2025-01-31T23:59:59Z */
	ck_assert_int_eq(cw_sigv4_sign(&in, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.amz_date, "20250131T235959Z");
	ck_assert_ptr_nonnull(strstr(cw_buf_str(&out.string_to_sign),
				     "\n20250131/us-east-1/service/aws4_request\n"));
	cw_sigv4_output_release(&out);
	in.time = 0;
	ck_assert_int_eq(cw_sigv4_sign(&in, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.amz_date, "19700101T000000Z");
	cw_sigv4_output_release(&out);
}
END_TEST

static void expect_fail(const struct cw_sigv4_input *in, const char *needle)
{
	struct cw_sigv4_output out;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(cw_sigv4_sign(in, &out, err, sizeof(err)), CW_EINVAL);
	ck_assert_msg(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
	ck_assert_ptr_null(strstr(err, EX_SECRET));
	ck_assert_uint_eq(out.canonical_request.len, 0);
	ck_assert_uint_eq(out.authorization.len, 0);
	cw_sigv4_output_release(&out);
}

START_TEST(test_errors)
{
	static const struct cw_sig_header nohost[] = { { "x-a", "1" } };
	static const struct cw_sig_header dated[] = {
		{ "host", "h" }, { "X-Amz-Date", "20150830T123600Z" } };
	static const struct cw_sig_header inject[] = { { "host", "h" }, { "x-a", "1\r\nx-b: 2" } };
	static const struct cw_sig_header badname[] = { { "host", "h" }, { "x a", "1" } };
	static const struct cw_sig_header tok[] = {
		{ "host", "h" }, { "X-Amz-Security-Token", "t" } };
	struct cw_sigv4_input in;

	base_input(&in, nohost, 1);
	expect_fail(&in, "host");
	base_input(&in, dated, 2);
	expect_fail(&in, "X-Amz-Date: added by the signer");
	base_input(&in, inject, 2);
	expect_fail(&in, "line break");
	base_input(&in, badname, 2);
	expect_fail(&in, "header name");
	base_input(&in, tok, 2);
	in.session_token = "secret-token";
	expect_fail(&in, "X-Amz-Security-Token");
	base_input(&in, host_only, 1);
	in.region = "us-east-1/evil";
	expect_fail(&in, "region");
	base_input(&in, host_only, 1);
	in.service = "";
	expect_fail(&in, "service");
	base_input(&in, host_only, 1);
	in.secret_key = NULL;
	expect_fail(&in, "secret");
	base_input(&in, host_only, 1);
	in.method = "GET /";
	expect_fail(&in, "method");
}
END_TEST

/* ---- the official suite ------------------------------------------------- */

struct req {
	char *method, *path, *query;
	struct cw_sig_header h[32];
	char *names[32], *values[32];
	size_t nh;
	const char *body;
	size_t body_len;
};

static void req_release(struct req *r)
{
	size_t i;

	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->nh; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
}

/*
 * Parse request.txt: request line (the target may hold spaces), headers
 * (a line starting with a space or tab continues the previous value; kept
 * with its line break for the signer to fold), blank line, body.
 */
static void parse_request(const char *text, struct req *r, const char *name)
{
	const char *p = text, *eol, *sp1, *sp2, *q;

	memset(r, 0, sizeof(*r));
	eol = strchr(p, '\n');
	ck_assert_msg(eol != NULL, "%s: no request line", name);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	for (sp2 = eol; sp2 > p && *sp2 != ' '; sp2--)
		;
	ck_assert_msg(sp1 && sp2 > sp1, "%s: bad request line", name);
	r->method = strndup(p, (size_t)(sp1 - p));
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	r->path = strndup(sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1));
	r->query = q ? strndup(q + 1, (size_t)(sp2 - q - 1)) : strdup("");
	p = eol + 1;
	while (*p && *p != '\n') {
		size_t len;

		eol = strchr(p, '\n');
		len = eol ? (size_t)(eol - p) : strlen(p);
		if (*p == ' ' || *p == '\t') {
			char *v;

			ck_assert_msg(r->nh > 0, "%s: continuation before any header", name);
			v = r->values[r->nh - 1];
			r->values[r->nh - 1] = malloc(strlen(v) + len + 2);
			ck_assert_ptr_nonnull(r->values[r->nh - 1]);
			snprintf(r->values[r->nh - 1], strlen(v) + len + 2, "%s\n%.*s", v,
				 (int)len, p);
			free(v);
		} else {
			const char *colon = memchr(p, ':', len);

			ck_assert_msg(colon != NULL, "%s: header line without ':'", name);
			ck_assert_uint_lt(r->nh, 32);
			r->names[r->nh] = strndup(p, (size_t)(colon - p));
			r->values[r->nh] = strndup(colon + 1, len - (size_t)(colon - p) - 1);
			r->nh++;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (*p == '\n')
		p++;
	r->body = p;
	r->body_len = strlen(p);
	for (size_t i = 0; i < r->nh; i++) {
		r->h[i].name = r->names[i];
		r->h[i].value = r->values[i];
	}
}

static char *case_file(const char *dir, const char *c, const char *f)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s", dir, c, f);
	return cw_test_slurp(path);
}

static void expect_file(const char *dir, const char *c, const char *f, const char *got)
{
	char *want = case_file(dir, c, f);

	ck_assert_msg(want != NULL, "%s: %s missing", c, f);
	ck_assert_msg(strcmp(want, got) == 0, "%s: %s differs\n--- want\n%s\n--- got\n%s", c, f,
		      want, got);
	free(want);
}

/* Value of the first "Name:" line of a signed-request file (malloc'd). */
static char *signed_header(const char *text, const char *hname)
{
	size_t n = strlen(hname);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncmp(p, hname, n) == 0 && p[n] == ':')
			return strndup(p + n + 1, len - n - 1);
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static void check_case(const char *dir, const char *c, struct cw_sigv4_keys *keys)
{
	char path[4096], err[CW_ERRBUF] = "";
	json_t *ctx, *creds, *tok, *omit;
	json_error_t jerr;
	struct cw_sigv4_input in;
	struct cw_sigv4_output out;
	struct req r;
	char *text, *signed_req, *authz, *date;
	int64_t t;

	snprintf(path, sizeof(path), "%s/%s/context.json", dir, c);
	ctx = json_load_file(path, 0, &jerr);
	ck_assert_msg(ctx != NULL, "%s: context.json: %s", c, jerr.text);
	text = case_file(dir, c, "request.txt");
	ck_assert_msg(text != NULL, "%s: request.txt missing", c);
	parse_request(text, &r, c);

	creds = json_object_get(ctx, "credentials");
	tok = json_object_get(creds, "token");
	omit = json_object_get(ctx, "omit_session_token");
	ck_assert_int_eq(cw_time_parse(json_string_value(json_object_get(ctx, "timestamp")), &t),
			 0);
	memset(&in, 0, sizeof(in));
	in.method = r.method;
	in.path = r.path;
	in.query = r.query;
	in.headers = r.h;
	in.nheaders = r.nh;
	in.payload = r.body;
	in.payload_len = r.body_len;
	in.region = json_string_value(json_object_get(ctx, "region"));
	in.service = json_string_value(json_object_get(ctx, "service"));
	in.time = t;
	in.access_key = json_string_value(json_object_get(creds, "access_key_id"));
	in.secret_key = json_string_value(json_object_get(creds, "secret_access_key"));
	in.session_token = json_string_value(tok);
	in.normalize_path = json_is_true(json_object_get(ctx, "normalize"));
	in.sign_content_sha256 = json_is_true(json_object_get(ctx, "sign_body"));
	in.sign_session_token = !json_is_true(omit);
	in.keys = keys;

	ck_assert_msg(cw_sigv4_sign(&in, &out, err, sizeof(err)) == 0, "%s: %s", c, err);
	expect_file(dir, c, "header-canonical-request.txt", cw_buf_str(&out.canonical_request));
	expect_file(dir, c, "header-string-to-sign.txt", cw_buf_str(&out.string_to_sign));
	expect_file(dir, c, "header-signature.txt", out.signature);
	signed_req = case_file(dir, c, "header-signed-request.txt");
	ck_assert_msg(signed_req != NULL, "%s: header-signed-request.txt missing", c);
	authz = signed_header(signed_req, "Authorization");
	ck_assert_msg(authz != NULL, "%s: no Authorization line", c);
	ck_assert_msg(strcmp(authz, cw_buf_str(&out.authorization)) == 0,
		      "%s: Authorization differs\nwant %s\ngot  %s", c, authz,
		      cw_buf_str(&out.authorization));
	date = signed_header(signed_req, "X-Amz-Date");
	ck_assert_msg(date && strcmp(date, out.amz_date) == 0, "%s: X-Amz-Date differs", c);

	free(date);
	free(authz);
	free(signed_req);
	cw_sigv4_output_release(&out);
	req_release(&r);
	free(text);
	json_decref(ctx);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_official_suite)
{
	char *dir = cw_test_data("sigv4-suite");
	char *names[256];
	size_t n = 0, i;
	struct cw_sigv4_keys *keys = NULL;
	struct dirent *de;
	DIR *d;

	d = dir ? opendir(dir) : NULL;
	if (!d) {
		printf("SKIPPED: sigv4 suite not found at %s "
		       "(set CW_TESTDATA to the shared test data)\n",
		       dir ? dir : "$CW_TESTDATA/sigv4-suite (CW_TESTDATA unset)");
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char ctx[4096];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(ctx, sizeof(ctx), "%s/%s/context.json", dir, de->d_name);
		f = fopen(ctx, "r");
		if (!f)
			continue; /* PROVENANCE.txt and the like */
		fclose(f);
		ck_assert_uint_lt(n, 256);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	/* each case derives its key, then again with a key cache (the
	 * cases share a secret and a day: all but the first are hits) */
	ck_assert_int_eq(cw_sigv4_keys_new(&keys), 0);
	for (i = 0; i < n; i++) {
		check_case(dir, names[i], NULL);
		check_case(dir, names[i], keys);
		check_case(dir, names[i], keys);
	}
	cw_sigv4_keys_free(keys);
	printf("sigv4 suite: checked %zu cases\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(dir);
	ck_assert_msg(n >= SUITE_MIN_CASES, "sigv4 suite: only %zu cases, want %d", n,
		      SUITE_MIN_CASES);
}
END_TEST

/* ---- botocore vectors --------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	ck_assert_msg(s != NULL, "vectors.json: %s missing", k);
	return s;
}

START_TEST(test_botocore_vectors)
{
	char *path = cw_test_src("tests/data/sigv4/vectors.json");
	json_error_t jerr;
	json_t *doc, *vs, *v;
	size_t i, n = 0;
	struct cw_sigv4_keys *keys = NULL;

	ck_assert_int_eq(cw_sigv4_keys_new(&keys), 0);
	doc = json_load_file(path, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s: %s", path, jerr.text);
	vs = json_object_get(doc, "vectors");
	ck_assert(json_is_array(vs));
	json_array_foreach(vs, i, v) {
		struct cw_sig_header h[16];
		json_t *hs = json_object_get(v, "headers"), *exp = json_object_get(v, "expected");
		struct cw_sigv4_input in;
		struct cw_sigv4_output out;
		const char *name = jstr(v, "name"), *body = jstr(v, "body");
		char err[CW_ERRBUF];
		size_t j;

		ck_assert(json_array_size(hs) <= 16);
		for (j = 0; j < json_array_size(hs); j++) {
			h[j].name = json_string_value(json_array_get(json_array_get(hs, j), 0));
			h[j].value = json_string_value(json_array_get(json_array_get(hs, j), 1));
		}
		memset(&in, 0, sizeof(in));
		in.method = jstr(v, "method");
		in.path = jstr(v, "path");
		in.query = jstr(v, "query");
		in.headers = h;
		in.nheaders = json_array_size(hs);
		in.payload = body;
		in.payload_len = strlen(body);
		in.region = jstr(v, "region");
		in.service = jstr(v, "service");
		in.time = json_integer_value(json_object_get(v, "time"));
		in.access_key = jstr(v, "access_key");
		in.secret_key = jstr(v, "secret_key");
		in.session_token = json_string_value(json_object_get(v, "session_token"));
		in.normalize_path = true;
		in.sign_session_token = true;
		in.keys = (i % 2) ? keys : NULL; /* the cache gives the same answers */
		ck_assert_msg(cw_sigv4_sign(&in, &out, err, sizeof(err)) == 0, "%s: %s", name, err);
		ck_assert_msg(strcmp(cw_buf_str(&out.canonical_request),
				     jstr(exp, "canonical_request")) == 0,
			      "%s: canonical request differs\n--- want\n%s\n--- got\n%s", name,
			      jstr(exp, "canonical_request"), cw_buf_str(&out.canonical_request));
		ck_assert_msg(strcmp(cw_buf_str(&out.string_to_sign),
				     jstr(exp, "string_to_sign")) == 0,
			      "%s: string to sign differs", name);
		ck_assert_msg(strcmp(out.signature, jstr(exp, "signature")) == 0,
			      "%s: signature differs", name);
		ck_assert_msg(strcmp(cw_buf_str(&out.authorization),
				     jstr(exp, "authorization")) == 0,
			      "%s: authorization differs", name);
		ck_assert_str_eq(out.amz_date, jstr(exp, "amz_date"));
		cw_sigv4_output_release(&out);
		n++;
	}
	printf("sigv4 botocore vectors: verified %zu\n", n);
	fflush(stdout);
	ck_assert_uint_ge(n, VECTORS_MIN);
	cw_sigv4_keys_free(keys);
	json_decref(doc);
	free(path);
}
END_TEST

static Suite *sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("unit");

	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_uri_encode);
	tcase_add_test(tc, test_doc_example);
	tcase_add_test(tc, test_key_cache);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_headers_fold);
	tcase_add_test(tc, test_token_and_payload);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("official");
	tcase_add_test(tc, test_official_suite);
	suite_add_tcase(s, tc);
	tc = tcase_create("botocore");
	tcase_add_test(tc, test_botocore_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(sigv4_suite());
}
