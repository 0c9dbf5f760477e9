/*
 * atomicio.h - write a whole file or nothing.
 *
 * The content goes to a temporary file in the same folder, is fsync'd, then
 * renamed over the target and the folder is fsync'd.  A reader never sees a
 * half-written report or state file, even after a crash or a signal.
 */
#ifndef CW_ATOMICIO_H
#define CW_ATOMICIO_H

#include <stddef.h>
#include <sys/types.h>

/* mode: e.g. 0644 for reports, 0600 for the state file. */
int cw_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen);

/*
 * Read a whole regular file (new reference in *out, NUL-terminated; length
 * in *len).  Refuses directories, and files larger than max bytes
 * (CW_ETOOBIG).
 */
int cw_read_file(const char *path, size_t max, char **out, size_t *len,
		 char *err, size_t errlen);

/* mkdir -p with mode 0755. */
int cw_mkdirs(const char *path, char *err, size_t errlen);

#endif
