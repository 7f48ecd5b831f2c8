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

/* Read PATH into *t.  IPABS_EIO if unreadable, IPABS_EINPUT if it is not
 * valid CSV (with the line), IPABS_ENOMEM. */
ipabs_status ipabs_table_read(const char *path, ipabs_table *t, ipabs_error *err);
void ipabs_table_free(ipabs_table *t);

/* Column index of a header name, -1 if absent. */
int ipabs_table_col(const ipabs_table *t, const char *name);
/* The cell as a number; false if empty or not entirely a number. */
bool ipabs_table_num(const ipabs_table *t, int row, int col, double *out);

#endif
