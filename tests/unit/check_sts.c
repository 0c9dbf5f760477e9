/*
 * check_sts.c - STS: the XML parser on saved answers (tests/data/sts),
 * form bodies and their encoding, parameter checks, error formatting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "err.h"
#include "strutil.h"
#include "sts.h"
#include "testlib.h"

static char *load(const char *name, size_t *len)
{
	char *rel = NULL, *path, *text;
	size_t n = strlen("tests/data/sts/") + strlen(name) + 1;

	rel = malloc(n);
	ck_assert_ptr_nonnull(rel);
	snprintf(rel, n, "tests/data/sts/%s", name);
	path = cw_test_src(rel);
	text = cw_test_slurp(path);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	*len = strlen(text);
	free(rel);
	free(path);
	return text;
}

/* Parse a saved answer; returns rc, err filled. */
static int parse_file(const char *name, struct cw_creds *c, char *err, size_t errlen)
{
	size_t len;
	char *xml = load(name, &len);
	int rc = cw_sts_parse_credentials(xml, len, c, err, errlen);

	free(xml);
	return rc;
}

START_TEST(parse_assume_role)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(parse_file("assume_role_ok.xml", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAIOSFODNN7EXAMPLE");
	ck_assert_str_eq(c.secret_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	ck_assert_ptr_nonnull(c.session_token);
	ck_assert(strncmp(c.session_token, "AQoDYXdzEPT//////////wEXAMPLEtc764", 34) == 0);
	ck_assert(cw_str_endswith(c.session_token, "oLxBA=="));
	ck_assert_int_eq(strlen(c.session_token), 336);
	ck_assert_int_eq(c.expiration, 1795666500); /* 2026-11-26T04:15:00Z */
	ck_assert_str_eq(c.source, "assume-role");
	cw_creds_release(&c);
}
END_TEST

START_TEST(parse_web_identity)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	/* Fields in another order, fractional seconds in Expiration. */
	ck_assert_int_eq(parse_file("web_identity_ok.xml", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASgeIAIOSFODNN7EXAMPLE");
	ck_assert_str_eq(c.secret_key, "9drTJvcXLB89EXAMPLELB8923FB892xMFI");
	ck_assert_str_eq(c.session_token,
			 "IQoJb3JpZ2luX2VjEXAMPLEwebidentitysessiontoken0123456789+/=");
	ck_assert_int_eq(c.expiration, 1414191623); /* 2014-10-24T23:00:23Z */
	cw_creds_release(&c);
}
END_TEST

START_TEST(parse_prefixed_namespace)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(parse_file("prefixed_ns.xml", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAPREFIXEDEXAMPLE1");
	ck_assert_str_eq(c.session_token, "dG9rZW4tcHJlZml4ZWQ=");
	ck_assert_int_eq(c.expiration, 1767323045); /* 2026-01-02T03:04:05Z */
	cw_creds_release(&c);
}
END_TEST

START_TEST(parse_long_token_file)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(parse_file("long_token.xml", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(strlen(c.session_token), 25600);
	cw_creds_release(&c);
}
END_TEST

START_TEST(parse_huge_token)
{
	/* A 4 MiB token, delivered in many character-data chunks by expat. */
	const size_t n = 4u << 20;
	struct cw_buf b = CW_BUF_INIT;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";
	char *tok = malloc(n + 1);

	ck_assert_ptr_nonnull(tok);
	for (size_t i = 0; i < n; i++)
		tok[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	tok[n] = '\0';
	ck_assert_int_eq(cw_buf_printf(&b, "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
				       "<AccessKeyId>ASIAHUGE</AccessKeyId>"
				       "<SecretAccessKey>s3cr3t</SecretAccessKey>"
				       "<SessionToken>%s</SessionToken>"
				       "<Expiration>2026-11-26T04:15:00Z</Expiration>"
				       "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
				       tok), 0);
	ck_assert_int_eq(cw_sts_parse_credentials(b.data, b.len, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(strlen(c.session_token), n);
	ck_assert(memcmp(c.session_token, tok, n) == 0);
	cw_creds_release(&c);
	cw_buf_release(&b);
	free(tok);
}
END_TEST

/* An error document: CW_EAWS with "Code: Message", and the code/message
 * parser agrees. */
static void check_error(const char *file, const char *code, const char *msg)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "", want[CW_ERRBUF], pc[128], pm[512];
	size_t len;
	char *xml;

	snprintf(want, sizeof(want), "%s: %s", code, msg);
	ck_assert_int_eq(parse_file(file, &c, err, sizeof(err)), CW_EAWS);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(c.session_token);
	ck_assert_str_eq(c.access_key, "");
	xml = load(file, &len);
	ck_assert_int_eq(cw_sts_parse_error(xml, len, pc, sizeof(pc), pm, sizeof(pm)), 0);
	ck_assert_str_eq(pc, code);
	ck_assert_str_eq(pm, msg);
	free(xml);
}

START_TEST(parse_errors)
{
	check_error("error_access_denied.xml", "AccessDenied",
		    "User: arn:aws:sts::111111111111:assumed-role/cwsweep-hub/cwsweep is not "
		    "authorized to perform: sts:AssumeRole on resource: "
		    "arn:aws:iam::333333333333:role/cwsweep-reader");
	check_error("error_invalid_client_token.xml", "InvalidClientTokenId",
		    "The security token included in the request is invalid.");
	check_error("error_region_disabled.xml", "RegionDisabledException",
		    "STS is not activated in this region for account:333333333333. Your account "
		    "administrator can activate STS in this region using the IAM Console.");
	check_error("error_expired_token.xml", "ExpiredToken",
		    "The security token included in the request is expired");
	check_error("error_throttling.xml", "Throttling", "Rate exceeded");
}
END_TEST

/* A malformed answer: rc, a message containing want, no secret in it. */
static void check_bad(const char *file, int rc, const char *want)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(parse_file(file, &c, err, sizeof(err)), rc);
	ck_assert_msg(strstr(err, want) != NULL, "%s: \"%s\" lacks \"%s\"", file, err, want);
	ck_assert_msg(strstr(err, "wJalrXUtnFEMI") == NULL, "%s: secret in \"%s\"", file, err);
	ck_assert_msg(strstr(err, "AQoDYXdzEPT") == NULL, "%s: token in \"%s\"", file, err);
	ck_assert_ptr_null(c.session_token);
	ck_assert_str_eq(c.secret_key, "");
}

START_TEST(parse_malformed)
{
	check_bad("missing_session_token.xml", CW_EPARSE, "Credentials/SessionToken missing");
	check_bad("missing_expiration.xml", CW_EPARSE, "Credentials/Expiration missing");
	check_bad("wrong_path.xml", CW_EPARSE, "Credentials/AccessKeyId missing");
	check_bad("duplicate_key.xml", CW_EPARSE, "AccessKeyId appears twice");
	check_bad("doctype_entity.xml", CW_EPARSE, "DOCTYPE is not allowed");
	check_bad("truncated.xml", CW_EPARSE, "malformed xml");
}
END_TEST

START_TEST(parse_odd_inputs)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";
	const char *other = "<GetCallerIdentityResponse><x/></GetCallerIdentityResponse>";
	const char *nested = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
			     "<AccessKeyId>A<b/>B</AccessKeyId></Credentials></AssumeRoleResult>"
			     "</AssumeRoleResponse>";
	const char *ctl = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
			  "<AccessKeyId>ASIA</AccessKeyId>"
			  "<SecretAccessKey>a&#10;b</SecretAccessKey><SessionToken>t</SessionToken>"
			  "<Expiration>2026-11-26T04:15:00Z</Expiration>"
			  "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
	const char *badtime = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
			      "<AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
			      "<SessionToken>t</SessionToken><Expiration>tomorrow</Expiration>"
			      "</Credentials></AssumeRoleResult></AssumeRoleResponse>";

	ck_assert_int_eq(cw_sts_parse_credentials("", 0, &c, err, sizeof(err)), CW_EPARSE);
	ck_assert_int_eq(cw_sts_parse_credentials(NULL, 0, &c, err, sizeof(err)), CW_EPARSE);
	ck_assert_int_eq(cw_sts_parse_credentials("{\"json\":1}", 10, &c, err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_int_eq(cw_sts_parse_credentials(other, strlen(other), &c, err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_str_eq(err, "sts response: root element is not AssumeRoleResponse");
	ck_assert_int_eq(cw_sts_parse_credentials(nested, strlen(nested), &c, err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_str_eq(err, "sts response: unexpected element inside AccessKeyId");
	/* A line break inside a key would end up in an HTTP header. */
	ck_assert_int_eq(cw_sts_parse_credentials(ctl, strlen(ctl), &c, err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_str_eq(err, "sts response: Credentials/SecretAccessKey has invalid characters");
	ck_assert_int_eq(cw_sts_parse_credentials(badtime, strlen(badtime), &c, err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_str_eq(err, "sts response: Expiration: not a time: tomorrow");
	/* Only the given length is read. */
	ck_assert_int_eq(cw_sts_parse_credentials(other, 5, &c, err, sizeof(err)), CW_EPARSE);
}
END_TEST

START_TEST(form_encode)
{
	struct cw_buf b = CW_BUF_INIT;

	ck_assert_int_eq(cw_sts_form_encode(&b, "a b+c/d=e~f_g.h-i:j@k,l&m\xc3\xa9"), 0);
	ck_assert_str_eq(cw_buf_str(&b), "a%20b%2Bc%2Fd%3De~f_g.h-i%3Aj%40k%2Cl%26m%C3%A9");
	cw_buf_release(&b);
}
END_TEST

START_TEST(form_assume_role)
{
	struct cw_buf b = CW_BUF_INIT;
	struct cw_sts_request r;
	char err[CW_ERRBUF] = "";

	memset(&r, 0, sizeof(r));
	r.role_arn = "arn:aws:iam::333333333333:role/cwsweep-reader";
	r.session_name = "cwsweep-20261126T031500Z-4f2a";
	ck_assert_int_eq(cw_sts_form_body(&b, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(cw_buf_str(&b),
			 "Action=AssumeRole&Version=2011-06-15"
			 "&RoleArn=arn%3Aaws%3Aiam%3A%3A333333333333%3Arole%2Fcwsweep-reader"
			 "&RoleSessionName=cwsweep-20261126T031500Z-4f2a");
	cw_buf_release(&b);

	r.external_id = "ext:id/with=odd,chars@x";
	r.duration_seconds = 3600;
	ck_assert_int_eq(cw_sts_form_body(&b, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(cw_buf_str(&b),
			 "Action=AssumeRole&Version=2011-06-15"
			 "&RoleArn=arn%3Aaws%3Aiam%3A%3A333333333333%3Arole%2Fcwsweep-reader"
			 "&RoleSessionName=cwsweep-20261126T031500Z-4f2a"
			 "&ExternalId=ext%3Aid%2Fwith%3Dodd%2Cchars%40x&DurationSeconds=3600");
	cw_buf_release(&b);
}
END_TEST

START_TEST(form_web_identity)
{
	struct cw_buf b = CW_BUF_INIT;
	struct cw_sts_request r;
	char err[CW_ERRBUF] = "";

	memset(&r, 0, sizeof(r));
	r.role_arn = "arn:aws-us-gov:iam::111111111111:role/path/irsa";
	r.session_name = "pod@ns";
	r.web_identity_token = "eyJhbGciOi.eyJzdWIi.sig+/=";
	ck_assert_int_eq(cw_sts_form_body(&b, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(cw_buf_str(&b),
			 "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
			 "&RoleArn=arn%3Aaws-us-gov%3Aiam%3A%3A111111111111%3Arole%2Fpath%2Firsa"
			 "&RoleSessionName=pod%40ns"
			 "&WebIdentityToken=eyJhbGciOi.eyJzdWIi.sig%2B%2F%3D");
	cw_buf_release(&b);
}
END_TEST

/* A request that must be refused, with err containing want. */
static void check_refused(const struct cw_sts_request *r, const char *want)
{
	struct cw_buf b = CW_BUF_INIT;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(cw_sts_form_body(&b, r, err, sizeof(err)), CW_EINVAL);
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err, want);
	cw_buf_release(&b);
}

START_TEST(form_checks)
{
	struct cw_sts_request r, x;
	char long_name[80], long_ext[1300];

	memset(&r, 0, sizeof(r));
	r.role_arn = "arn:aws:iam::333333333333:role/cwsweep-reader";
	r.session_name = "ok-name";
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	memset(long_ext, 'b', 1225);
	long_ext[1225] = '\0';

	x = r; x.role_arn = "arn:aws:iam::33333333333:role/short-account";
	check_refused(&x, "RoleArn");
	x = r; x.role_arn = "arn:aws:iam::333333333333:user/bob";
	check_refused(&x, "RoleArn");
	x = r; x.role_arn = "arn:aws:iam::333333333333:role/a b";
	check_refused(&x, "RoleArn");
	x = r; x.session_name = "a";
	check_refused(&x, "RoleSessionName");
	x = r; x.session_name = long_name;
	check_refused(&x, "RoleSessionName");
	x = r; x.session_name = "has space";
	check_refused(&x, "RoleSessionName");
	x = r; x.session_name = NULL;
	check_refused(&x, "RoleSessionName");
	x = r; x.external_id = "x";
	check_refused(&x, "ExternalId");
	x = r; x.external_id = long_ext;
	check_refused(&x, "ExternalId");
	x = r; x.external_id = "semi;colon";
	check_refused(&x, "ExternalId");
	x = r; x.duration_seconds = 899;
	check_refused(&x, "DurationSeconds: 899 is outside 900..43200");
	x = r; x.duration_seconds = 43201;
	check_refused(&x, "DurationSeconds");
	x = r; x.web_identity_token = "abc";
	check_refused(&x, "WebIdentityToken: length 3");
	x = r; x.web_identity_token = "abcd"; x.external_id = "ext-id";
	check_refused(&x, "ExternalId: not accepted");

	/* The edges are accepted. */
	long_name[64] = '\0';
	long_ext[1224] = '\0';
	{
		struct cw_buf b = CW_BUF_INIT;

		x = r; x.session_name = long_name; x.external_id = long_ext;
		x.duration_seconds = 43200;
		ck_assert_int_eq(cw_sts_form_body(&b, &x, NULL, 0), 0);
		cw_buf_release(&b);
		x = r; x.session_name = "ab"; x.duration_seconds = 900;
		ck_assert_int_eq(cw_sts_form_body(&b, &x, NULL, 0), 0);
		cw_buf_release(&b);
	}
}
END_TEST

START_TEST(error_format)
{
	struct cw_sts_error e;
	char out[CW_ERRBUF];

	cw_sts_error_init(&e);
	snprintf(e.stage, sizeof(e.stage), "assume-role");
	snprintf(e.role_arn, sizeof(e.role_arn), "arn:aws:iam::333333333333:role/cwsweep-reader");
	snprintf(e.code, sizeof(e.code), "AccessDenied");
	snprintf(e.message, sizeof(e.message), "User: arn:aws:sts::111111111111:assumed-role/"
		 "hub/x is not authorized to perform: sts:AssumeRole");
	cw_sts_error_format(&e, out, sizeof(out));
	ck_assert_str_eq(out, "assume-role arn:aws:iam::333333333333:role/cwsweep-reader: "
			 "AccessDenied: User: arn:aws:sts::111111111111:assumed-role/hub/x is "
			 "not authorized to perform: sts:AssumeRole");
	e.code[0] = '\0';
	snprintf(e.message, sizeof(e.message), "connect error: 127.0.0.1");
	cw_sts_error_format(&e, out, sizeof(out));
	ck_assert_str_eq(out, "assume-role arn:aws:iam::333333333333:role/cwsweep-reader: "
			 "connect error: 127.0.0.1");

	ck_assert(cw_sts_code_permanent("AccessDenied"));
	ck_assert(cw_sts_code_permanent("InvalidClientTokenId"));
	ck_assert(cw_sts_code_permanent("RegionDisabledException"));
	ck_assert(!cw_sts_code_permanent("Throttling"));
	ck_assert(!cw_sts_code_permanent("ExpiredToken"));
	ck_assert(!cw_sts_code_permanent(""));
	ck_assert(!cw_sts_code_permanent(NULL));
}
END_TEST

static Suite *sts_suite(void)
{
	Suite *s = suite_create("sts");
	TCase *p = tcase_create("parse"), *f = tcase_create("form");

	tcase_add_test(p, parse_assume_role);
	tcase_add_test(p, parse_web_identity);
	tcase_add_test(p, parse_prefixed_namespace);
	tcase_add_test(p, parse_long_token_file);
	tcase_add_test(p, parse_huge_token);
	tcase_add_test(p, parse_errors);
	tcase_add_test(p, parse_malformed);
	tcase_add_test(p, parse_odd_inputs);
	tcase_add_test(f, form_encode);
	tcase_add_test(f, form_assume_role);
	tcase_add_test(f, form_web_identity);
	tcase_add_test(f, form_checks);
	tcase_add_test(f, error_format);
	suite_add_tcase(s, p);
	suite_add_tcase(s, f);
	return s;
}

int main(void)
{
	return cw_test_run_suite(sts_suite());
}
