/*
 * fuzz_c7norg.c - libFuzzer harness for the c7n-org accounts file
 * converter: any bytes; on success the output is an inventory that loads
 * (the converter checks it itself) and ends with a newline; on failure
 * there is at least one problem.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "c7norg.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_buf out = CW_BUF_INIT, notes = CW_BUF_INIT;
	struct cw_diags d = { NULL, 0, 0 };
	int rc = cw_c7n_org_to_inventory("fuzz.yml", (const char *)data, size, NULL, &out,
					 &notes, &d);

	if (rc == 0 && (!out.len || out.data[out.len - 1] != '\n'))
		abort();
	if (rc == CW_EINVAL && d.n == 0)
		abort();
	cw_buf_release(&out);
	cw_buf_release(&notes);
	cw_diags_release(&d);
	return 0;
}
