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

/* Read PATH into *t.  A leading UTF-8 byte-order mark (result CSVs have one
 * unless written with --csv-bom no) is skipped.  IPABS_EIO if unreadable
 * (also: not a regular file, larger than IPABS_RESULT_MAX_BYTES),
 * IPABS_EINPUT if it is not valid CSV, is empty or has a row whose length
 * differs from the header's (with the row), IPABS_ENOMEM.  On success every
 * row has the header's length. */
ipabs_status ipabs_table_read(const char *path, ipabs_table *t, ipabs_error *err);
void ipabs_table_free(ipabs_table *t);

/* Column index of a header name, -1 if absent. */
int ipabs_table_col(const ipabs_table *t, const char *name);
/* The cell as a finite number; false if empty, not entirely a number, or
 * infinite or NaN. */
bool ipabs_table_num(const ipabs_table *t, int row, int col, double *out);

/* The unit of a result column or measure by its name, for axis titles:
 * "yuan", "fraction" (probabilities, ratios, yields, rates: 0.03 = 3%),
 * "years", "count", "payment period", "date", "multiple" (multipliers,
 * coverage ratios) or "" (none
 * known).  docs/measures.md states the convention. */
const char *ipabs_unit_of(const char *name);
/* "NAME (UNIT)" into buf (just NAME when the unit is unknown). */
void ipabs_axis_title(const char *name, char *buf, size_t cap);

#endif
