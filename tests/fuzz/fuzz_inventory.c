/*
 * fuzz_inventory.c - libFuzzer harness for the inventory parser (YAML tree
 * with anchors, aliases and merge keys, then the key tables): any bytes;
 * success means at least one account, failure at least one problem, and
 * everything is released either way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	int rc = cw_inventory_parse("fuzz.yaml", (const char *)data, size, &inv, &d);

	if (rc == 0 && inv.naccounts + inv.naccounts_disabled == 0)
		abort();
	if (rc != 0 && rc != CW_ENOMEM && d.n == 0)
		abort();
	if (rc == 0)
		cw_inventory_release(&inv);
	cw_diags_release(&d);
	return 0;
}
