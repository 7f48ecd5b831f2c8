/*
 * ipabs/report.h — output of one realisation (`ipabs cashflow`,
 * `ipabs replay`): the ledger, the tranche table, the period table, the
 * realisation itself, and a readable per-period table.  Files are written
 * atomically (csvout.h).
 */
#ifndef IPABS_REPORT_H
#define IPABS_REPORT_H

#include <stdio.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/model.h"
#include "ipabs/waterfall.h"

/* DIR/ledger.csv, DIR/tranches.csv, DIR/periods.csv; bom: begin each with
 * the UTF-8 byte-order mark (csvout.h). */
ipabs_status ipabs_cashflow_write(const ipabs_deal *deal,
                                  const ipabs_cashflow *cf, const char *dir,
                                  bool bom, ipabs_error *err);

/* DIR/realisation.csv: one row per loan (default period and date, EAD,
 * realisation, latent value) and one for the guarantor.  draws may be NULL. */
ipabs_status ipabs_realisation_write(const ipabs_deal *deal,
                                     const ipabs_realisation *real,
                                     const ipabs_path_draws *draws,
                                     const char *dir, bool bom, ipabs_error *err);

/* Readable table of the main flows, one line per period. */
void ipabs_cashflow_print(FILE *out, const ipabs_deal *deal,
                          const ipabs_cashflow *cf);

/* Deal summary for `ipabs check`. */
void ipabs_deal_print(FILE *out, const ipabs_deal *deal);

#endif
