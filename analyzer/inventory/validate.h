/*
 * validate.h - AWS grammars for the names an inventory holds.
 *
 * Each returns NULL when s is valid, or a static lowercase reason.
 */
#ifndef CW_VALIDATE_H
#define CW_VALIDATE_H

#include <stdint.h>

const char *cw_check_account_id(const char *s);   /* exactly 12 digits */
/* arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME, partition aws|aws-cn|aws-us-gov|... */
const char *cw_check_role_arn(const char *s);
/* defaults.role_name: NAME or PATH/NAME (a leading / is allowed), the part
 * of a role ARN after "role/". */
const char *cw_check_role_name(const char *s);
/* An Organizations OU id (ou-ROOT-OU) or root id (r-ROOT). */
const char *cw_check_ou_id(const char *s);
const char *cw_check_region(const char *s);       /* e.g. us-east-1, eu-central-2, us-gov-west-1 */
const char *cw_check_bucket_name(const char *s);  /* the S3 general-purpose naming rules */
const char *cw_check_external_id(const char *s);  /* [\w+=,.@:/-]{2,1224} */
const char *cw_check_session_name(const char *s); /* [\w+=,.@-]{2,64} */
/* A judging period in seconds: 60..86400, whole minutes, dividing a day. */
const char *cw_check_period(int64_t secs);

/* The account id inside a role ARN (12 chars copied into out[13]). */
int cw_role_arn_account(const char *arn, char out[13]);

#endif
