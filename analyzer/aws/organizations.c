/*
 * organizations.c - the Organizations listings (see organizations.h).
 */
#include "organizations.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pager.h"
#include "strutil.h"

void cw_org_accounts_release(struct cw_org_accounts *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_account_id(const char *s)
{
	return s && strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* An OU ("ou-") or root ("r-") id: letters, digits and dashes, bounded. */
static bool is_parent_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 3 || n > 68 || (strncmp(s, "ou-", 3) != 0 && strncmp(s, "r-", 2) != 0))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int add_account(struct cw_org_accounts *a, const char *id, const char *name,
		       const char *status)
{
	struct cw_org_account *x;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, id) == 0)
			return 0; /* the same account through two OUs */
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *p = realloc(a->v, cap * sizeof(*a->v));

		if (!p)
			return CW_ENOMEM;
		a->v = p;
		a->cap = cap;
	}
	x = &a->v[a->n];
	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, 13);
	x->name = cw_strdup(name && *name ? name : id);
	if (!x->name)
		return CW_ENOMEM;
	for (char *p = x->name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	cw_strlcpy(x->status, status && *status ? status : "ACTIVE", sizeof(x->status));
	a->n++;
	return 0;
}

int cw_org_parse_page(const char *body, size_t len, struct cw_org_accounts *accounts,
		      char ***children, size_t *nchildren, char **next,
		      char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *list, *tok, *it;
	size_t i;
	int rc = 0;

	*next = NULL;
	if (!json_is_object(root)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "answer is not a JSON object");
		goto out;
	}
	tok = json_object_get(root, "NextToken");
	if (tok && !json_is_null(tok)) {
		const char *t = json_string_value(tok);

		if (!t || !*t || strlen(t) > 100000) {
			rc = cw_fail(err, errlen, CW_EPARSE, "NextToken is not a string");
			goto out;
		}
		if (!(*next = cw_strdup(t))) {
			rc = CW_ENOMEM;
			goto out;
		}
	}
	list = json_object_get(root, accounts ? "Accounts" : "Children");
	if (!json_is_array(list)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "answer has no %s list",
			     accounts ? "Accounts" : "Children");
		goto out;
	}
	json_array_foreach(list, i, it) {
		const char *id = json_string_value(json_object_get(it, "Id"));

		if (accounts) {
			const char *st = json_string_value(json_object_get(it, "Status"));

			if (!st)
				st = json_string_value(json_object_get(it, "State"));
			if (!is_account_id(id)) {
				rc = cw_fail(err, errlen, CW_EPARSE, "an account without a "
					     "12-digit Id");
				goto out;
			}
			rc = add_account(accounts, id,
					 json_string_value(json_object_get(it, "Name")), st);
		} else {
			char **v;

			if (!is_parent_id(id)) {
				rc = cw_fail(err, errlen, CW_EPARSE, "a child without an OU Id");
				goto out;
			}
			v = realloc(*children, (*nchildren + 1) * sizeof(*v));
			if (!v) {
				rc = CW_ENOMEM;
				goto out;
			}
			*children = v;
			v[*nchildren] = cw_strdup(id);
			if (!v[*nchildren]) {
				rc = CW_ENOMEM;
				goto out;
			}
			(*nchildren)++;
		}
		if (rc)
			goto out;
	}
out:
	if (rc == CW_ENOMEM)
		cw_fail(err, errlen, rc, "out of memory");
	if (rc) {
		free(*next);
		*next = NULL;
	}
	json_decref(root);
	return rc;
}

/* One listing, every page: accounts (accounts != NULL) or child OU ids.
 * Paged through the shared guard (pager.h): a NextToken seen before in the
 * listing, or more than CW_ORG_MAX_PAGES pages, stops it. */
static int list_all(struct cw_org_client *c, const char *op, const char *parent,
		    struct cw_org_accounts *accounts, char ***children, size_t *nchildren,
		    char *err, size_t errlen)
{
	char endpoint[512], target[96], what[160];
	struct cw_pager pg;
	char *next = NULL;
	int rc = 0;

	if (c->endpoint)
		cw_strlcpy(endpoint, c->endpoint, sizeof(endpoint));
	else if ((rc = cw_endpoint_resolve("organizations", CW_ORG_REGION, c->endpoint_url,
					   endpoint, sizeof(endpoint), err, errlen)))
		return rc;
	snprintf(target, sizeof(target), "AWSOrganizationsV20161128.%s", op);
	snprintf(what, sizeof(what), "organizations %s%s%s", op, parent ? " " : "",
		 parent ? parent : "");
	cw_pager_init(&pg, CW_ORG_MAX_PAGES);
	do {
		struct cw_aws_request req;
		struct cw_aws_response resp;
		json_t *body = json_object();
		char *text;

		if (!body) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			break;
		}
		if (parent)
			json_object_set_new(body, "ParentId", json_string(parent));
		if (children)
			json_object_set_new(body, "ChildType", json_string("ORGANIZATIONAL_UNIT"));
		if (next)
			json_object_set_new(body, "NextToken", json_string(next));
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!text) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			break;
		}
		memset(&req, 0, sizeof(req));
		req.service = "organizations";
		req.region = CW_ORG_REGION;
		req.endpoint = endpoint;
		req.proto = CW_PROTO_JSON11;
		req.target = target;
		req.body = text;
		req.body_len = strlen(text);
		req.what = what;
		cw_aws_response_init(&resp);
		rc = cw_aws_call(c->aws, &req, c->get_creds, c->creds_ctx, &resp, err, errlen);
		free(text);
		c->calls++;
		if (rc == CW_EAWS) {
			cw_strlcpy(c->code, resp.code, sizeof(c->code));
			rc = cw_fail(err, errlen, CW_EAWS, "%s: %s: %s", what,
				     resp.code[0] ? resp.code : "error", resp.message);
		}
		if (!rc) {
			char why[CW_ERRBUF];

			free(next);
			next = NULL;
			rc = cw_org_parse_page(resp.body.data, resp.body.len, accounts, children,
					       nchildren, &next, why, sizeof(why));
			if (rc)
				rc = cw_fail(err, errlen, rc, "%s: %s", what, why);
		}
		cw_aws_response_release(&resp);
		if (!rc) {
			rc = cw_pager_next(&pg, next, what, err, errlen);
			if (rc && rc != CW_ENOMEM)
				cw_strlcpy(c->code, cw_pager_code(rc), sizeof(c->code));
		}
	} while (rc == 0 && next);
	free(next);
	cw_pager_release(&pg);
	if (rc)
		cw_strlcpy(c->op, op, sizeof(c->op));
	return rc;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The accounts under parent and its OUs, recursively, skipping excluded OUs. */
static int walk(struct cw_org_client *c, const struct cw_org_filter *f, const char *parent,
		int depth, struct cw_org_accounts *out, char *err, size_t errlen)
{
	char **kids = NULL;
	size_t nkids = 0;
	int rc;

	if (depth > CW_ORG_MAX_DEPTH)
		return cw_fail(err, errlen, CW_EPARSE, "organizations: OUs nested more than %d "
			       "deep under %s (a cycle?)", CW_ORG_MAX_DEPTH, parent);
	rc = list_all(c, "ListAccountsForParent", parent, out, NULL, NULL, err, errlen);
	if (!rc)
		rc = list_all(c, "ListChildren", parent, NULL, &kids, &nkids, err, errlen);
	for (size_t i = 0; !rc && i < nkids; i++)
		if (!f || !in_list(f->exclude_ous, f->nexclude, kids[i]))
			rc = walk(c, f, kids[i], depth + 1, out, err, errlen);
	free_strv(kids, nkids);
	return rc;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct cw_org_account *)a)->id,
		      ((const struct cw_org_account *)b)->id);
}

int cw_org_list(struct cw_org_client *c, const struct cw_org_filter *f,
		struct cw_org_accounts *out, char *err, size_t errlen)
{
	struct cw_org_accounts drop = { NULL, 0, 0 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	c->code[0] = '\0';
	c->op[0] = '\0';
	if (f && f->ninclude) {
		for (size_t i = 0; !rc && i < f->ninclude; i++)
			if (!in_list(f->exclude_ous, f->nexclude, f->include_ous[i]))
				rc = walk(c, f, f->include_ous[i], 0, out, err, errlen);
	} else {
		rc = list_all(c, "ListAccounts", NULL, out, NULL, NULL, err, errlen);
		for (size_t i = 0; !rc && f && i < f->nexclude; i++)
			rc = walk(c, NULL, f->exclude_ous[i], 0, &drop, err, errlen);
		if (!rc && drop.n) {
			size_t w = 0;

			for (size_t i = 0; i < out->n; i++) {
				bool gone = false;

				for (size_t k = 0; k < drop.n && !gone; k++)
					gone = strcmp(drop.v[k].id, out->v[i].id) == 0;
				if (gone)
					free(out->v[i].name);
				else
					out->v[w++] = out->v[i];
			}
			out->n = w;
		}
	}
	cw_org_accounts_release(&drop);
	if (rc) {
		cw_org_accounts_release(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_id);
	return 0;
}
