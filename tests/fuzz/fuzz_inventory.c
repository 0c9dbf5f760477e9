/*
 * fuzz_inventory.c - libFuzzer harness for the inventory parser and its
 * validation (YAML through libyaml, then every key's rules): any bytes;
 * on success the model must hold together, on failure every diagnostic
 * is a terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_inventory inv;
	struct cw_diags diags = { NULL, 0, 0 };
	int rc;

	memset(&inv, 0, sizeof(inv));
	rc = cw_inventory_parse("fuzz.yaml", (const char *)data, size, &inv, &diags);
	for (size_t i = 0; i < diags.n; i++)
		if (!diags.v[i].msg || strlen(diags.v[i].msg) > 100000)
			abort();
	if (rc == 0) {
		for (size_t a = 0; a < inv.naccounts; a++)
			if (strlen(inv.accounts[a].id) != 12)
				abort();
		if (inv.period <= 0)
			abort();
		cw_inventory_release(&inv);
	}
	cw_diags_release(&diags);
	return 0;
}
