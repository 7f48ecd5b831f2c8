/*
 * ipabs/resultdir.h — a command's result set written all or nothing.
 *
 * The files are written into a fresh directory beside the target
 * ("OUT.tmp-XXXXXX", same parent, hence the same file system), which is
 * then renamed into place: when OUT does not exist, by one rename; when it
 * does, by exchanging the two directories atomically (renameat2
 * RENAME_EXCHANGE) and then moving back every entry of the previous OUT
 * that the new set does not replace (the user's own files, charts), and
 * removing the rest.  At every instant OUT holds either the previous set
 * or the new one, never a mixture; a failure before the commit removes the
 * temporary directory and leaves OUT as it was (docs/cli.md, "Result
 * sets").  A process killed before the commit leaves only its
 * OUT.tmp-XXXXXX directory, which is never read.
 */
#ifndef IPABS_RESULTDIR_H
#define IPABS_RESULTDIR_H

#include "ipabs/error.h"

typedef struct ipabs_result_dir {
    char target[1024]; /* OUT as given, without trailing '/' */
    char tmp[1100];    /* where the set is written until the commit */
} ipabs_result_dir;

/* Create the parents of target if missing, refuse a target that exists and
 * is not a directory (IPABS_EIO), and create d->tmp beside it. */
ipabs_status ipabs_result_dir_begin(ipabs_result_dir *d, const char *target,
                                    ipabs_error *err);

/* Put the set in d->tmp in place of d->target (see above).  An empty
 * d->tmp is not committed: it is removed and OUT left as it was
 * (IPABS_OK; *committed false).  IPABS_EIO if the rename fails, in which
 * case d->tmp is removed too. */
ipabs_status ipabs_result_dir_commit(ipabs_result_dir *d, int *committed,
                                     ipabs_error *err);

/* Remove d->tmp and everything in it (after a failure). */
void ipabs_result_dir_abort(ipabs_result_dir *d);

#endif
