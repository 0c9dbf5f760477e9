/*
 * atomicio.h - write a whole file or nothing.
 *
 * The content goes to a temporary file in the same folder, is fsync'd, then
 * renamed over the target and the folder is fsync'd.  A reader never sees a
 * half-written report or state file, even after a crash or a signal.
 */
#ifndef CW_ATOMICIO_H
#define CW_ATOMICIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What sits between a target's name and the writer's PID in a temporary
 * file's name: "report.md.tmp.4242.a8Zk3q". */
#define CW_TMP_INFIX ".tmp."

/* mode: e.g. 0644 for reports, 0600 for the state file. */
int cw_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen);

/*
 * The same, written piece by piece: cw_afile_open creates
 * PATH.tmp.PID.XXXXXX, a fresh name made with O_EXCL (mkstemp), so a link
 * or a file planted there is never followed or overwritten (as
 * cw_write_file_atomic does), cw_afile_write appends to it,
 * cw_afile_finish fsyncs and closes it, cw_afile_commit (finishing first
 * when needed) renames it over PATH and fsyncs the folder.  Until the
 * commit PATH is untouched; cw_afile_abort removes the temporary file.
 * Several files can be finished first and committed together.  After a
 * failed call the temporary file is gone.  cw_afile_abort frees what the
 * struct holds and is always safe: after a failure, after a commit, and
 * on a zeroed struct that cw_afile_open never saw.
 */
struct cw_afile {
	char *path; /* owned copies */
	char *tmp;
	int fd;     /* open temporary file, -1 once closed */
	bool done;  /* committed or removed: no temporary file left */
};

int cw_afile_open(struct cw_afile *f, const char *path, mode_t mode,
		  char *err, size_t errlen);
int cw_afile_write(struct cw_afile *f, const void *data, size_t len,
		   char *err, size_t errlen);
int cw_afile_finish(struct cw_afile *f, char *err, size_t errlen);
int cw_afile_commit(struct cw_afile *f, char *err, size_t errlen);
/* Remove the temporary file unless committed; frees what f holds. */
void cw_afile_abort(struct cw_afile *f);

/*
 * Read a whole regular file (new reference in *out, NUL-terminated; length
 * in *len).  Refuses directories, and files larger than max bytes
 * (CW_ETOOBIG).
 */
int cw_read_file(const char *path, size_t max, char **out, size_t *len,
		 char *err, size_t errlen);

/*
 * Remove the temporary files that runs killed before their commit left in
 * dir ("NAME.tmp.PID" or "NAME.tmp.PID.XXXXXX" whose PID is no running
 * process; links are removed, never followed).  Call it holding the run
 * lock.  prefix: only the temporary files of file names that start with it
 * ("report." for the reports, "state.json" for a state file); NULL: any.
 * A missing dir is fine.  *removed (may be NULL) counts them.
 */
int cw_remove_stale_temps(const char *dir, const char *prefix, size_t *removed,
			  char *err, size_t errlen);

/*
 * Whole-file reads open with O_NONBLOCK and refuse what is not a regular
 * file, so a FIFO or a device at a path never hangs the run.
 */

/* mkdir -p with mode 0755. */
int cw_mkdirs(const char *path, char *err, size_t errlen);

#endif
