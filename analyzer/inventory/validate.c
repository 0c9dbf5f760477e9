/*
 * validate.c - AWS grammars for the names an inventory holds: account ids,
 * IAM role ARNs, region names, S3 bucket names, STS external ids and
 * session names.  Pure functions over C strings; each returns NULL when
 * the string is valid or a static lowercase reason.
 */
#include "validate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* \w in the AWS patterns: [A-Za-z0-9_] */
static bool is_word(char c)
{
	return is_digit(c) || is_lower(c) || is_upper(c) || c == '_';
}

static bool all_in(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		if (!is_word(s[i]) && (s[i] == '\0' || !strchr(extra, s[i])))
			return false;
	return true;
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool ends(const char *s, const char *p)
{
	size_t n = strlen(s), m = strlen(p);

	return n >= m && memcmp(s + n - m, p, m) == 0;
}

const char *cw_check_period(int64_t secs)
{
	if (secs < 60 || secs > 86400)
		return "must be from 1m to 1d (CloudWatch periods are whole minutes)";
	if (secs % 60 != 0)
		return "must be a whole number of minutes (CloudWatch periods are "
		       "multiples of 60 seconds)";
	if (86400 % secs != 0)
		return "must divide a day evenly (e.g. 1m, 5m, 15m, 1h, 6h, 1d) so that "
		       "periods line up with UTC days";
	return NULL;
}

const char *cw_check_account_id(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return "not an AWS account id (want exactly 12 digits, e.g. \"123456789012\")";
	if (n != 12)
		return "an AWS account id has exactly 12 digits";
	return NULL;
}

/* The partitions that have IAM; the ISO ones are air-gapped but valid. */
static const char *const partitions[] = {
	"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", NULL
};

static bool known_partition(const char *s, size_t n)
{
	for (size_t i = 0; partitions[i]; i++)
		if (strlen(partitions[i]) == n && memcmp(partitions[i], s, n) == 0)
			return true;
	return false;
}

#define ARN_WANT "(want arn:aws:iam::123456789012:role/NAME)"

const char *cw_check_role_arn(const char *s)
{
	const char *p, *acct, *res, *slash;
	size_t n;

	if (!starts(s, "arn:"))
		return "not an IAM role ARN " ARN_WANT;
	p = s + 4;
	n = strcspn(p, ":");
	if (p[n] != ':')
		return "not an IAM role ARN " ARN_WANT;
	if (!known_partition(p, n))
		return "unknown partition in role ARN (want aws, aws-cn, aws-us-gov, aws-iso or aws-iso-b)";
	p += n + 1;
	if (starts(p, "sts::") && strstr(p, ":assumed-role/"))
		return "an assumed-role session ARN, not a role ARN " ARN_WANT;
	if (!starts(p, "iam::"))
		return "not an IAM role ARN: the service must be iam and the region empty "
		       ARN_WANT;
	acct = p + 5;
	n = strcspn(acct, ":");
	if (acct[n] != ':')
		return "not an IAM role ARN " ARN_WANT;
	if (n != 12 || strspn(acct, "0123456789") != 12)
		return "the account in a role ARN must be 12 digits " ARN_WANT;
	res = acct + n + 1;
	if (!starts(res, "role/")) {
		if (starts(res, "user/") || starts(res, "group/") || starts(res, "policy/"))
			return "an IAM user, group or policy ARN, not a role ARN " ARN_WANT;
		return "not an IAM role ARN " ARN_WANT;
	}
	res += 5;
	slash = strrchr(res, '/');
	if (slash) {
		/* path: printable ASCII between slashes, at most 512 chars */
		if ((size_t)(slash - res) + 2 > 512)
			return "role path is longer than 512 characters";
		for (const char *q = res; q < slash; q++)
			if (*q < 0x21 || *q > 0x7e)
				return "role path has a character outside printable ASCII";
		if (strstr(res, "//"))
			return "role path has an empty segment (//)";
		res = slash + 1;
	}
	n = strlen(res);
	if (n == 0)
		return "role ARN has no role name " ARN_WANT;
	if (n > 64)
		return "role name is longer than 64 characters";
	if (!all_in(res, n, "+=,.@-"))
		return "role name has a character outside [A-Za-z0-9_+=,.@-]";
	return NULL;
}

int cw_role_arn_account(const char *arn, char out[13])
{
	const char *p;

	out[0] = '\0';
	if (cw_check_role_arn(arn))
		return CW_EINVAL;
	p = strstr(arn + 4, ":iam::");
	memcpy(out, p + 6, 12);
	out[12] = '\0';
	return 0;
}

const char *cw_check_role_name(const char *s)
{
	char arn[640];

	if (*s == '/')
		s++;
	if (!*s)
		return "a role name is 1 to 64 characters of [A-Za-z0-9+=,.@_-], "
		       "optionally after a path (e.g. cwsweep-reader or finops/cwsweep-reader)";
	if (strncmp(s, "arn:", 4) == 0)
		return "a role name, not an ARN: cwsweep builds "
		       "arn:PARTITION:iam::ACCOUNT:role/NAME for each account";
	if (strlen(s) > 576)
		return "role path is longer than 512 characters";
	if (s[strlen(s) - 1] == '/')
		return "ends with /: give the role's name after its path";
	snprintf(arn, sizeof(arn), "arn:aws:iam::000000000000:role/%s", s);
	return cw_check_role_arn(arn);
}

/* ou-[0-9a-z]{4,32}-[a-z0-9]{8,32} or r-[0-9a-z]{4,32} (the Organizations API patterns) */
const char *cw_check_ou_id(const char *s)
{
	static const char want[] = "not an OU or root id (e.g. ou-ab12-cd345678 or r-ab12)";
	const char *p;
	size_t n;

	if (strncmp(s, "r-", 2) == 0) {
		n = strlen(s + 2);
		return n >= 4 && n <= 32 && all_in(s + 2, n, "") && !strpbrk(s + 2, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ") ? NULL : want;
	}
	if (strncmp(s, "ou-", 3) != 0)
		return want;
	p = strchr(s + 3, '-');
	if (!p)
		return want;
	n = (size_t)(p - (s + 3));
	if (n < 4 || n > 32 || !all_in(s + 3, n, "") || strlen(p + 1) < 8 || strlen(p + 1) > 32 ||
	    !all_in(p + 1, strlen(p + 1), "") || strpbrk(s, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		return want;
	return NULL;
}

/*
 * Region names: AREA-[ISOLATION-]DIRECTION-N.  The area and direction lists
 * cover every region AWS has announced; a new one that fits the pattern
 * needs a line here.
 */
static const char *const areas[] = {
	"af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us", NULL
};
static const char *const isolations[] = {
	"gov-", "iso-", "isob-", "isoe-", "isof-", NULL
};
static const char *const directions[] = {
	"northeast", "northwest", "southeast", "southwest", "central",
	"north", "south", "east", "west", NULL
};

static const char *eat(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (starts(s, list[i]))
			return s + strlen(list[i]);
	return NULL;
}

const char *cw_check_region(const char *s)
{
	const char *p, *q;
	static const char *const bad = "not an AWS region name (want e.g. us-east-1, eu-central-2)";

	for (p = s; *p; p++)
		if (is_upper(*p))
			return "region names are lowercase (e.g. us-east-1)";
	p = eat(s, areas);
	if (!p || *p != '-')
		return bad;
	p++;
	q = eat(p, isolations);
	if (q)
		p = q;
	p = eat(p, directions);
	if (!p || *p != '-')
		return bad;
	p++;
	if (!is_digit(p[0]) || p[0] == '0')
		return bad;
	if (p[1] && (!is_digit(p[1]) || p[2]))
		return bad;
	return NULL;
}

static bool looks_like_ipv4(const char *s)
{
	int dots = 0, digits = 0;

	for (; *s; s++) {
		if (is_digit(*s)) {
			if (++digits > 3)
				return false;
		} else if (*s == '.') {
			if (digits == 0)
				return false;
			dots++;
			digits = 0;
		} else {
			return false;
		}
	}
	return dots == 3 && digits > 0;
}

const char *cw_check_bucket_name(const char *s)
{
	static const char *const prefixes[] = { "xn--", "sthree-", "amzn-s3-demo-", NULL };
	static const char *const suffixes[] = {
		"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3", NULL
	};
	size_t n = strlen(s);

	if (n < 3)
		return "bucket name is shorter than 3 characters";
	if (n > 63)
		return "bucket name is longer than 63 characters";
	for (size_t i = 0; i < n; i++) {
		if (is_upper(s[i]))
			return "bucket names have no uppercase letters";
		if (s[i] == '_')
			return "bucket names have no underscores";
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '.' && s[i] != '-')
			return "bucket names hold only a-z, 0-9, dots and hyphens";
	}
	if (!is_lower(s[0]) && !is_digit(s[0]))
		return "bucket name must start with a letter or digit";
	if (!is_lower(s[n - 1]) && !is_digit(s[n - 1]))
		return "bucket name must end with a letter or digit";
	if (strstr(s, ".."))
		return "bucket name has two adjacent dots";
	if (looks_like_ipv4(s))
		return "bucket name must not look like an IP address";
	for (size_t i = 0; prefixes[i]; i++)
		if (starts(s, prefixes[i]))
			return "bucket name starts with a prefix that S3 reserves "
			       "(xn--, sthree-, amzn-s3-demo-)";
	for (size_t i = 0; suffixes[i]; i++)
		if (ends(s, suffixes[i]))
			return "bucket name ends with a suffix that S3 reserves "
			       "(-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)";
	return NULL;
}

const char *cw_check_external_id(const char *s)
{
	size_t n = strlen(s);

	if (n < 2)
		return "external id is shorter than 2 characters";
	if (n > 1224)
		return "external id is longer than 1224 characters";
	if (!all_in(s, n, "+=,.@:/-"))
		return "external id has a character outside [A-Za-z0-9_+=,.@:/-]";
	return NULL;
}

const char *cw_check_session_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 2)
		return "session name is shorter than 2 characters";
	if (n > 64)
		return "session name is longer than 64 characters";
	if (!all_in(s, n, "+=,.@-"))
		return "session name has a character outside [A-Za-z0-9_+=,.@-]";
	return NULL;
}
