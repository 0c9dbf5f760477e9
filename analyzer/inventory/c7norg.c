/*
 * c7norg.c - c7n-org accounts file to cwsweep inventory (see c7norg.h).
 * The c7n-org file is read with the inventory's own YAML tree (positions,
 * anchors, the expansion bound); the inventory is written as text and
 * parsed back before it is handed out.
 */
#include "c7norg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "atomicio.h"
#include "err.h"
#include "strutil.h"
#include "validate.h"
#include "yamltree.h"

#define C7N_MAX_BYTES ((size_t)16 << 20)

struct acct {
	const struct cw_yt_node *node, *id, *name, *role, *ext, *regions, *tags;
	char role_tail[600]; /* "NAME" of arn:...:role/NAME when in its own account */
	char part[16];
};

static void diag(struct cw_diags *d, const char *file, const struct cw_yt_node *at,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void diag(struct cw_diags *d, const char *file, const struct cw_yt_node *at,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cw_diags_add(d, file, at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

/* A YAML double-quoted scalar. */
static void yq(struct cw_buf *b, const char *s)
{
	cw_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			cw_buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			cw_buf_printf(b, "\\x%02x", c);
		else
			cw_buf_addch(b, (char)c);
	}
	cw_buf_addch(b, '"');
}

static bool is_str(const struct cw_yt_node *n)
{
	return n && n->kind == CW_YT_SCALAR && !cw_yt_is_null(n);
}

/* The part of a role ARN after "role/" when its account is id ("" else). */
static void role_tail(const char *arn, const char *id, char *out, size_t len, char *part,
		      size_t plen)
{
	char acct[13];
	const char *r;

	out[0] = part[0] = '\0';
	if (cw_check_role_arn(arn) || cw_role_arn_account(arn, acct) || strcmp(acct, id))
		return;
	r = strstr(arn, ":role/");
	cw_strlcpy(out, r + 6, len);
	snprintf(part, plen, "%.*s", (int)strcspn(arn + 4, ":"), arn + 4);
}

static void note(struct cw_buf *notes, const char *who, const char *what)
{
	cw_buf_printf(notes, "%s: %s\n", who, what);
}

int cw_c7n_org_to_inventory(const char *name, const char *text, size_t len,
			    const char *role_name, struct cw_buf *out, struct cw_buf *notes,
			    struct cw_diags *diags)
{
	struct cw_yt_node *root = NULL;
	const struct cw_yt_node *accts;
	struct acct *a = NULL;
	size_t n = 0, before = diags->n;
	const char *common_role = NULL, *common_ext = NULL;
	bool same_role = true, same_ext = true;
	struct cw_inventory check;
	int rc;

	rc = cw_yt_parse(&root, name, text, len, diags);
	if (rc == CW_ENOMEM)
		return rc;
	if (rc || !root || root->kind != CW_YT_MAP) {
		if (diags->n == before)
			diag(diags, name, root, "not a c7n-org accounts file: want a map with "
			     "accounts: [...]");
		cw_yt_free(root);
		return CW_EINVAL;
	}
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->pairs[i].key->str;

		if (strcmp(k, "vars") == 0)
			note(notes, name, "vars: not carried over (cwsweep has no template "
			     "variables)");
		else if (strcmp(k, "subscriptions") == 0 || strcmp(k, "projects") == 0 ||
			 strcmp(k, "tenancies") == 0)
			diag(diags, name, root->pairs[i].key, "%s: Azure, GCP and OCI "
			     "entries have no cwsweep equivalent (AWS accounts only)", k);
		else if (strcmp(k, "accounts") != 0)
			diag(diags, name, root->pairs[i].key, "%s: not a c7n-org key (want "
			     "accounts, vars)", k);
	}
	accts = cw_yt_get(root, "accounts");
	if (!accts || accts->kind != CW_YT_SEQ || accts->n == 0) {
		diag(diags, name, accts ? accts : root, "accounts: want a list of accounts "
		     "(account_id, name, role, regions, ...)");
		goto out;
	}
	a = calloc(accts->n, sizeof(*a));
	if (!a) {
		rc = CW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < accts->n; i++) {
		const struct cw_yt_node *v = accts->items[i];
		struct acct *x = &a[n];

		if (v->kind != CW_YT_MAP) {
			diag(diags, name, v, "accounts: each entry is a map (account_id, name, "
			     "role, ...)");
			continue;
		}
		x->node = v;
		x->id = cw_yt_get(v, "account_id");
		x->name = cw_yt_get(v, "name");
		x->role = cw_yt_get(v, "role");
		x->ext = cw_yt_get(v, "external_id");
		x->regions = cw_yt_get(v, "regions");
		x->tags = cw_yt_get(v, "tags");
		if (!is_str(x->id) || cw_check_account_id(x->id->str)) {
			diag(diags, name, x->id ? x->id : v, "account_id: %s",
			     x->id && x->id->plain && x->id->kind == CW_YT_SCALAR ?
			     "12 digits in quotes (c7n-org also wants a string)" :
			     "want the 12-digit account id");
			continue;
		}
		if (x->role && !is_str(x->role) &&
		    (x->role->kind != CW_YT_SEQ || x->role->n == 0)) {
			diag(diags, name, x->role, "role: an IAM role ARN, or a list of them");
			continue;
		}
		if (x->role && x->role->kind == CW_YT_SEQ) {
			bool ok = true;

			for (size_t k = 0; k < x->role->n; k++)
				if (!is_str(x->role->items[k]) || cw_check_role_arn(x->role->items[k]->str)) {
					diag(diags, name, x->role->items[k], "role: not an IAM role ARN");
					ok = false;
				}
			if (!ok)
				continue;
		} else if (x->role && cw_check_role_arn(x->role->str)) {
			diag(diags, name, x->role, "role: %s", cw_check_role_arn(x->role->str));
			continue;
		}
		if (x->ext && (!is_str(x->ext) || cw_check_external_id(x->ext->str))) {
			diag(diags, name, x->ext, "external_id: %s", is_str(x->ext) ?
			     cw_check_external_id(x->ext->str) : "want a string");
			continue;
		}
		if (x->role && is_str(x->role))
			role_tail(x->role->str, x->id->str, x->role_tail, sizeof(x->role_tail),
				  x->part, sizeof(x->part));
		if (!x->role_tail[0])
			same_role = false;
		else if (!common_role)
			common_role = x->role_tail;
		else if (strcmp(common_role, x->role_tail))
			same_role = false;
		if (!x->ext)
			same_ext = false;
		else if (!common_ext)
			common_ext = x->ext->str;
		else if (strcmp(common_ext, x->ext->str))
			same_ext = false;
		n++;
	}
	if (diags->n > before)
		goto out;
	if (role_name && same_role && common_role && strcmp(role_name, common_role))
		same_role = false; /* the roles are named otherwise: keep them written out */
	if (!common_role)
		same_role = false;
	if (!common_ext)
		same_ext = false;

	cw_buf_printf(out, "# accounts.yaml - converted by `cwsweep init --from-c7n-org` from "
		      "%s (%zu accounts).\n# Check it with `cwsweep validate -i accounts.yaml`; "
		      "accounts.yaml.example documents every key.\n"
		      "# c7n-org has no bucket list: every account finds its buckets "
		      "through ListMetrics (buckets: auto).\nversion: 1\n\ndefaults:\n"
		      "  regions: [us-east-1]\n  buckets: auto\n", name, n);
	if (same_role)
		cw_buf_printf(out, "  role_name: %s\n", common_role);
	else if (role_name)
		cw_buf_printf(out, "  role_name: %s  # for accounts without a role of their own\n",
			      role_name);
	if (same_ext) {
		cw_buf_addstr(out, "  external_id: ");
		yq(out, common_ext);
		cw_buf_addch(out, '\n');
	}
	cw_buf_addstr(out, "\naccounts:\n");
	for (size_t i = 0; i < n; i++) {
		struct acct *x = &a[i];
		const char *id = x->id->str;
		char who[64];
		bool dup = false;

		snprintf(who, sizeof(who), "account %s", id);
		cw_buf_printf(out, "  - id: \"%s\"\n", id);
		if (is_str(x->name)) {
			for (size_t k = 0; k < i && !dup; k++)
				dup = is_str(a[k].name) && strcmp(a[k].name->str, x->name->str) == 0;
			cw_buf_addstr(out, "    name: ");
			if (dup) {
				char *nm = cw_asprintf("%s (%s)", x->name->str, id);

				if (!nm) {
					rc = CW_ENOMEM;
					goto out;
				}
				yq(out, nm);
				free(nm);
				note(notes, who, "name: used twice in the file; written as "
				     "\"NAME (ID)\"");
			} else {
				yq(out, x->name->str);
			}
			cw_buf_addch(out, '\n');
		}
		if (x->role && (!same_role || x->role->kind == CW_YT_SEQ)) {
			if (x->role->kind == CW_YT_SEQ) {
				cw_buf_addstr(out, "    role_arn:\n");
				for (size_t k = 0; k < x->role->n; k++)
					cw_buf_printf(out, "      - %s\n", x->role->items[k]->str);
			} else {
				cw_buf_printf(out, "    role_arn: %s\n", x->role->str);
			}
		}
		if (x->ext && !same_ext) {
			cw_buf_addstr(out, "    external_id: ");
			yq(out, x->ext->str);
			cw_buf_addch(out, '\n');
		}
		if (x->regions && x->regions->kind == CW_YT_SEQ && x->regions->n) {
			bool all = false, first = true;

			for (size_t k = 0; k < x->regions->n; k++)
				all = all || (is_str(x->regions->items[k]) &&
					      strcmp(x->regions->items[k]->str, "all") == 0);
			if (all)
				note(notes, who, "regions: all: cwsweep needs the regions listed "
				     "(written: us-east-1, us-west-2; edit)");
			cw_buf_addstr(out, "    regions: [");
			for (size_t k = 0; !all && k < x->regions->n; k++) {
				const struct cw_yt_node *r = x->regions->items[k];

				if (!is_str(r) || cw_check_region(r->str)) {
					note(notes, who, "regions: a value that is not a region was "
					     "left out");
					continue;
				}
				cw_buf_printf(out, "%s%s", first ? "" : ", ", r->str);
				first = false;
			}
			if (all || first)
				cw_buf_addstr(out, "us-east-1, us-west-2");
			cw_buf_addstr(out, "]\n");
		} else {
			/* c7n-org's own default when an account lists none */
			cw_buf_addstr(out, "    regions: [us-east-1, us-west-2]\n");
		}
		if (x->tags && x->tags->kind == CW_YT_SEQ && x->tags->n) {
			bool repeated = false, any = false;

			for (size_t k = 0; k < x->tags->n; k++) {
				const struct cw_yt_node *t = x->tags->items[k];
				size_t kl;
				bool later = false;

				if (!is_str(t)) {
					note(notes, who, "tags: an entry that is not a string was left "
					     "out");
					continue;
				}
				kl = strcspn(t->str, ":");
				/* a key given twice (orgaccounts.py writes path:/Root,
				 * path:/Root/prod, ...): the last one, the most specific */
				for (size_t j = k + 1; j < x->tags->n && !later; j++)
					later = is_str(x->tags->items[j]) &&
						strcspn(x->tags->items[j]->str, ":") == kl &&
						strncmp(x->tags->items[j]->str, t->str, kl) == 0;
				if (later) {
					repeated = true;
					continue;
				}
				if (kl == 0 || kl > 128 || strlen(t->str + kl) > 257) {
					note(notes, who, "tags: an empty or too long key or value was "
					     "left out");
					continue;
				}
				if (!any)
					cw_buf_addstr(out, "    tags:\n");
				any = true;
				cw_buf_addstr(out, "      ");
				{
					char key[160];

					snprintf(key, sizeof(key), "%.*s", (int)kl, t->str);
					yq(out, key);
				}
				cw_buf_addstr(out, ": ");
				yq(out, t->str[kl] ? t->str + kl + 1 : "");
				cw_buf_addch(out, '\n');
			}
			if (repeated)
				note(notes, who, "tags: a key given more than once keeps its last value");
		}
		if (cw_yt_get(x->node, "vars"))
			note(notes, who, "vars: not carried over (cwsweep has no template "
			     "variables)");
		if (cw_yt_get(x->node, "profile"))
			note(notes, who, "profile: not carried over (cwsweep assumes roles from "
			     "one set of credentials: give the profile with --profile)");
		if (!x->role)
			note(notes, who, "no role: swept with the ambient credentials, or give "
			     "role_arn");
		for (size_t k = 0; k < x->node->n; k++) {
			static const char *const known[] = {
				"account_id", "name", "role", "external_id", "regions", "tags",
				"vars", "profile", NULL
			};
			const char *key = x->node->pairs[k].key->str;
			bool ok = false;

			for (size_t j = 0; known[j] && !ok; j++)
				ok = strcmp(known[j], key) == 0;
			if (!ok) {
				char msg[200];

				snprintf(msg, sizeof(msg), "%.60s: not carried over (no such key "
					 "in cwsweep)", key);
				note(notes, who, msg);
			}
		}
	}
	if (!out->data) {
		rc = CW_ENOMEM;
		goto out;
	}
	/* what is handed out must load as it is */
	rc = cw_inventory_parse("(converted)", out->data, out->len, &check, diags);
	if (rc == 0)
		cw_inventory_release(&check);
out:
	free(a);
	cw_yt_free(root);
	if (rc == 0 && diags->n > before)
		rc = CW_EINVAL;
	return rc;
}

int cw_c7n_org_convert(const char *path, const char *role_name, FILE *out, FILE *err)
{
	struct cw_buf inv = CW_BUF_INIT, notes = CW_BUF_INIT;
	struct cw_diags d = { NULL, 0, 0 };
	char why[CW_ERRBUF], *text = NULL;
	size_t len = 0;
	int rc;

	rc = cw_read_file(path, C7N_MAX_BYTES, &text, &len, why, sizeof(why));
	if (rc) {
		fprintf(err, "cwsweep: init: %s: %s\n", path, why);
		return rc;
	}
	rc = cw_c7n_org_to_inventory(path, text, len, role_name, &inv, &notes, &d);
	free(text);
	cw_diags_print(&d, err);
	cw_diags_release(&d);
	if (rc == 0) {
		fwrite(inv.data, 1, inv.len, out);
		if (notes.len)
			fprintf(err, "cwsweep: init: not carried over from %s:\n%s", path,
				notes.data);
		else
			fprintf(err, "cwsweep: init: everything in %s was carried over\n", path);
	}
	cw_buf_release(&inv);
	cw_buf_release(&notes);
	return rc;
}
