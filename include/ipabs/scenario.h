/*
 * ipabs/scenario.h — reading and validating a scenario.
 *
 * A scenario is a YAML file (deal terms, parsed with libfyaml) that names a
 * loan tape in CSV (parsed with libcsv) by a path relative to the YAML file.
 * Every key and column is documented in docs/scenario-format.md.
 *
 * Validation collects every input error of both files before giving up, so
 * that a user fixes a file in one pass.  Each error names the file, the
 * line and column (YAML position, or tape row and field number), the key or
 * column, what was expected and what was found.
 */
#ifndef IPABS_SCENARIO_H
#define IPABS_SCENARIO_H

#include "ipabs/deal.h"
#include "ipabs/error.h"

/* Load, validate and finalise a scenario.
 *
 * overrides: n_overrides strings "dotted.key=value" (the CLI's --set), applied
 * to the YAML document before validation, so an override is checked exactly
 * like the file; errors in one point at "--set" and the override's index.
 * May be NULL when n_overrides is 0.
 *
 * On success returns IPABS_OK and *out owns a finalised deal (free with
 * ipabs_deal_free).  On failure *out is NULL and every problem found is in
 * *errors (code IPABS_EINPUT for the user's mistakes, IPABS_EIO for an
 * unreadable file, IPABS_ENOMEM); the return value is the first error's code.
 * The caller owns *errors and clears it with ipabs_errors_clear(). */
ipabs_status ipabs_scenario_load(const char *yaml_path,
                                 const char *const *overrides, int n_overrides,
                                 ipabs_deal **out, ipabs_errors *errors);

#endif
