/*
 * ipabs/workbook.h — an Excel workbook (libxlsxwriter) of a result
 * directory: one sheet per result CSV with typed numeric cells, number
 * formats (yuan, %), dates as dates, frozen header rows, and native charts.
 *
 * The workbook is built from the CSV files just written (read back with
 * libcsv), so the workbook and the CSVs cannot disagree.  It is written to
 * a temporary file and renamed into place.
 */
#ifndef IPABS_WORKBOOK_H
#define IPABS_WORKBOOK_H

#include "ipabs/error.h"

typedef enum ipabs_result_kind {
    IPABS_RESULT_RUN,   /* summary, default_count, loss_distribution, cdr, run */
    IPABS_RESULT_SWEEP, /* sweep */
    IPABS_RESULT_RATE   /* rating, rating_summary, breakeven */
} ipabs_result_kind;

/* Write XLSX_PATH from the CSVs of kind in DIR.  Errors: IPABS_EIO (a CSV
 * missing or the workbook not writable), IPABS_ENOMEM. */
ipabs_status ipabs_workbook_write(const char *xlsx_path, const char *dir,
                                  ipabs_result_kind kind, ipabs_error *err);

#endif
