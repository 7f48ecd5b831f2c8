/*
 * ipabs/csvin.h — reading a result CSV back (libcsv) into a table of
 * strings, for the workbook and the plots, which are built from the same
 * files a spreadsheet user sees.
 */
#ifndef IPABS_CSVIN_H
#define IPABS_CSVIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ipabs/error.h"

typedef struct ipabs_table {
    int n_rows; /* including the header row */
    int n_cols; /* of the widest row */
    char ***cell; /* cell[row][col], NULL past the end of a short row */
    int *row_len;
} ipabs_table;

/* Read PATH into *t.  IPABS_EIO if unreadable (also: not a regular file,
 * larger than IPABS_RESULT_MAX_BYTES), IPABS_EINPUT if it is not valid CSV,
 * is empty or has a row whose length differs from the header's (with the
 * row), IPABS_ENOMEM.  On success every row has the header's length. */
ipabs_status ipabs_table_read(const char *path, ipabs_table *t, ipabs_error *err);
void ipabs_table_free(ipabs_table *t);

/* Column index of a header name, -1 if absent. */
int ipabs_table_col(const ipabs_table *t, const char *name);
/* The cell as a finite number; false if empty, not entirely a number, or
 * infinite or NaN. */
bool ipabs_table_num(const ipabs_table *t, int row, int col, double *out);

#endif
