/*
 * api_internal.h — what the embedding API shares between its files and
 * with the CLI (which links the static library and may see the deal).
 * Nothing here is exported from the shared library.
 */
#ifndef IPABS_API_INTERNAL_H
#define IPABS_API_INTERNAL_H

#include "ipabs/csvin.h"
#include "ipabs/deal.h"
#include "ipabs/ipabs.h"
#include "ipabs/waterfall.h"

struct ipabs_session {
    ipabs_deal *deal;
    char *path;     /* the scenario as given */
    char **sets;    /* the overrides, copied */
    int n_sets;
};

/* The session's validated deal (the CLI prints and runs it). */
const ipabs_deal *ipabs_session_deal(const ipabs_session *s);

/* Apply "LOAN@PERIOD[:REALISATION]" to real.  IPABS_EINPUT naming the
 * field "--default" and what was expected. */
ipabs_status ipabs_api_parse_default(const ipabs_deal *deal, const char *spec,
                                     ipabs_realisation *real, ipabs_error *err);

/* The realisation the cashflow parameters describe (p may be NULL):
 * defaults applied to real (fresh from ipabs_realisation_alloc), the
 * guarantor's default period, the index built.  IPABS_EINPUT. */
ipabs_status ipabs_api_realisation(const ipabs_deal *deal, const ipabs_cashflow_params *p,
                                   ipabs_realisation *real, ipabs_error *err);

/* ---- result sets (results.c) ---------------------------------------------- */

ipabs_results *ipabs_results_new(void);
/* Add a table called name from a table of strings whose row 0 is the
 * header (ownership of the strings stays with the caller).  Column types
 * are inferred as documented in ipabs.h.  IPABS_ENOMEM. */
ipabs_status ipabs_results_add_cells(ipabs_results *r, const char *name,
                                     const ipabs_table *cells, ipabs_error *err);
/* Read DIR/NAME.csv for every name (NULL-terminated) into r. */
ipabs_status ipabs_results_read_dir(ipabs_results *r, const char *dir,
                                    const char *const *names, ipabs_error *err);

/* A private temporary directory for result files (mkdtemp), and its
 * removal with the named CSVs in it. */
ipabs_status ipabs_api_tempdir(char *dir, size_t size, ipabs_error *err);
void ipabs_api_tempdir_remove(const char *dir, const char *const *names);

#endif
