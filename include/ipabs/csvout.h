/*
 * ipabs/csvout.h — writing result CSVs that spreadsheets read without fuss,
 * atomically.
 *
 * A file is written to "NAME.tmp.PID" beside its final name and renamed
 * into place by ipabs_csv_commit(), so an interrupted run never leaves a
 * half-written file that looks complete.  Text cells go through libcsv's
 * quoting when they need it; numbers are written with a '.' decimal point
 * (the C locale), one value per cell; NaN is an empty cell.  A file
 * begins with a UTF-8 byte-order mark unless the caller asks otherwise:
 * Excel on a Chinese-locale Windows reads a CSV without one in the ANSI
 * code page (GBK), and class names such as 优先A1 come out as 浼樺厛A1.
 */
#ifndef IPABS_CSVOUT_H
#define IPABS_CSVOUT_H

#include <stdbool.h>
#include <stdio.h>

#include "ipabs/error.h"

typedef struct ipabs_csv_out {
    FILE *fp;
    char path[1024];
    char tmp[1100];
    int col;     /* cells written in the current row */
    int failed;  /* a write failed: commit will report it */
} ipabs_csv_out;

/* Create directory dir (and parents) if missing. */
ipabs_status ipabs_mkdir_p(const char *dir, ipabs_error *err);

/* Open DIR/NAME for writing (through a temporary file); bom: begin with
 * the UTF-8 byte-order mark EF BB BF (the default of every result file;
 * `--csv-bom no` turns it off for scripts). */
ipabs_status ipabs_csv_open(ipabs_csv_out *w, const char *dir,
                            const char *name, bool bom, ipabs_error *err);
void ipabs_csv_text(ipabs_csv_out *w, const char *text);
/* decimals >= 0: fixed ("%.*f"); decimals < 0: 17 significant digits. */
void ipabs_csv_num(ipabs_csv_out *w, double value, int decimals);
void ipabs_csv_int(ipabs_csv_out *w, long long value);
void ipabs_csv_empty(ipabs_csv_out *w);
/* Several text cells at once, e.g. a header: NULL-terminated. */
void ipabs_csv_header(ipabs_csv_out *w, const char *const *names);
void ipabs_csv_end_row(ipabs_csv_out *w);
/* Flush, sync and rename into place.  IPABS_EIO on any failure (the
 * temporary file is removed). */
ipabs_status ipabs_csv_commit(ipabs_csv_out *w, ipabs_error *err);
/* Give up: close and remove the temporary file.  Safe after commit. */
void ipabs_csv_abort(ipabs_csv_out *w);

#endif
