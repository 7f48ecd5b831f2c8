/*
 * ipabs/ipabs.h — the embedding API: everything a program (or the Python
 * module) needs to use ipabs as a library, in one header, with no access to
 * the engine's internals.  Link with `pkg-config --libs ipabs` or CMake's
 * `find_package(ipabs CONFIG)` → `ipabs::ipabs`.
 *
 *     ipabs_session *s;   open a scenario (path + --set overrides)
 *     ipabs_results *r;   run it: check, cashflow, run (Monte Carlo), sweep
 *     const ipabs_result *t = ipabs_results_get(r, "summary");
 *     const double *v = ipabs_result_doubles(t, ipabs_result_find(t, "value"));
 *
 * Tables.  Every result is a set of named tables, the same tables as the
 * CSV files the CLI writes (docs/cli.md, docs/measures.md), named after
 * the file without ".csv": `run` gives summary, default_count,
 * loss_distribution, cdr and run; `cashflow` gives ledger, tranches and
 * periods; `sweep` gives sweep.  The tables are read back from those very
 * files (written to out_dir, or to a private temporary directory that is
 * removed afterwards), so a table cannot disagree with its CSV: a number
 * written with 17 significant digits reads back to the same double.
 * Columns are typed: TEXT for names and dates, INT when every cell is an
 * integer, DOUBLE otherwise (an empty cell is NaN); docs/api.md lists them.
 *
 * Ownership.  The caller owns every session and result set and frees it
 * with ipabs_session_free() / ipabs_results_free() (NULL is a no-op).
 * Pointers returned by the accessors are owned by the result set and live
 * until it is freed.  A session is immutable once opened (its deal is only
 * read), so several threads may run the same session at once.  There is no global mutable state;
 * call ipabs_init() once at start-up (it turns GSL's abort handler off).
 *
 * Errors.  Fallible functions return an ipabs_status and fill a
 * caller-owned ipabs_error (or, where one input can have many mistakes,
 * an ipabs_errors list), with file, line, column, field and message as the
 * CLI prints them: IPABS_EINPUT for the user's input (exit code 2 in the
 * CLI), IPABS_EIO, IPABS_ENOMEM, IPABS_EINTERNAL, IPABS_EINTERRUPTED.
 * Nothing is printed.  Sessions and `out` pointers must not be NULL; an
 * ipabs_error pointer may be NULL (the error is then dropped), an
 * ipabs_errors pointer may not.
 */
#ifndef IPABS_IPABS_H
#define IPABS_IPABS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ipabs/error.h"
#include "ipabs/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
IPABS_API const char *ipabs_version(void);

/* ---- sessions: one validated scenario ------------------------------------ */

typedef struct ipabs_session ipabs_session;

/* Read and validate PATH with n_sets overrides "dotted.key=value" (the
 * CLI's --set; sets may be NULL when n_sets is 0).  On success *out owns
 * the session.  On failure *out is NULL and every problem found is in
 * *errors (which the caller clears with ipabs_errors_clear()); the return
 * value is the first error's code.  An unreadable scenario or tape is
 * reported as IPABS_EIO with the file named. */
IPABS_API ipabs_status ipabs_session_open(const char *path,
                                          const char *const *sets, int n_sets,
                                          ipabs_session **out,
                                          ipabs_errors *errors);
IPABS_API void ipabs_session_free(ipabs_session *s);

/* The deal summary `ipabs check` prints, into buf (always terminated when
 * size > 0).  Returns the length of the whole text, as snprintf does. */
IPABS_API size_t ipabs_session_describe(const ipabs_session *s, char *buf,
                                        size_t size);

/* ---- result tables -------------------------------------------------------- */

typedef struct ipabs_results ipabs_results; /* a set of named tables */
typedef struct ipabs_result ipabs_result;   /* one table */

typedef enum ipabs_column_type {
    IPABS_COLUMN_TEXT = 0,
    IPABS_COLUMN_INT = 1,    /* int64_t */
    IPABS_COLUMN_DOUBLE = 2  /* NaN where the CSV cell is empty */
} ipabs_column_type;

IPABS_API void ipabs_results_free(ipabs_results *r);
IPABS_API int ipabs_results_count(const ipabs_results *r);
/* Table i (0 .. count - 1), in the order the CLI writes the files; NULL
 * when out of range. */
IPABS_API const ipabs_result *ipabs_results_at(const ipabs_results *r, int i);
/* The table called name (e.g. "summary"); NULL when absent. */
IPABS_API const ipabs_result *ipabs_results_get(const ipabs_results *r,
                                                const char *name);

IPABS_API const char *ipabs_result_name(const ipabs_result *t);
IPABS_API long ipabs_result_rows(const ipabs_result *t);
IPABS_API int ipabs_result_cols(const ipabs_result *t);
/* Column c's header; NULL when out of range. */
IPABS_API const char *ipabs_result_col_name(const ipabs_result *t, int c);
IPABS_API ipabs_column_type ipabs_result_col_type(const ipabs_result *t, int c);
/* Index of the column called name; -1 when absent. */
IPABS_API int ipabs_result_find(const ipabs_result *t, const char *name);
/* Column c as an array of rows values; NULL when the column has another
 * type or c is out of range. */
IPABS_API const double *ipabs_result_doubles(const ipabs_result *t, int c);
IPABS_API const int64_t *ipabs_result_ints(const ipabs_result *t, int c);
IPABS_API const char *const *ipabs_result_texts(const ipabs_result *t, int c);

/* ---- check: the deal as tables -------------------------------------------- */

/* Tables "tranches" (name, class, balance, coupon, amortisation,
 * legal_final) and "loans" (id, firm, sector, principal, rate, term,
 * pd_annual, ip_value, recovery_mean) of the validated deal.
 * Errors: IPABS_ENOMEM. */
IPABS_API ipabs_status ipabs_session_check(const ipabs_session *s,
                                           ipabs_results **out,
                                           ipabs_error *err);

/* ---- one realisation ------------------------------------------------------ */

typedef struct ipabs_cashflow_params {
    /* "LOAN@PERIOD[:REALISATION]", as the CLI's --default: the loan
     * defaults in PERIOD (1 .. its term) and its IP realises the fraction
     * REALISATION of its appraised value (default: its recovery_mean). */
    const char *const *defaults;
    int n_defaults;
    int guarantor_default; /* period the guarantor fails; 0 = never */
    const char *out_dir;   /* keep the CSVs here; NULL = keep no files */
} ipabs_cashflow_params;

/* Tables ledger, tranches, periods.  p may be NULL (nobody defaults).
 * Errors: IPABS_EINPUT (a bad default, field "--default", or guarantor
 * period, field "--guarantor-default"), IPABS_EIO, IPABS_ENOMEM,
 * IPABS_EINTERNAL. */
IPABS_API ipabs_status ipabs_session_cashflow(const ipabs_session *s,
                                              const ipabs_cashflow_params *p,
                                              ipabs_results **out,
                                              ipabs_error *err);

/* ---- Monte Carlo ---------------------------------------------------------- */

/* Called as paths complete, in path order, from one thread at a time (not
 * necessarily the caller's).  Return nonzero to stop the run: it stops at
 * the next chunk boundary and keeps the completed prefix of paths. */
typedef int (*ipabs_progress_fn)(void *ctx, long long done, long long total);

typedef struct ipabs_run_params {
    long long paths;              /* 0 = the scenario's simulation.paths */
    int has_seed;                 /* 0 = the scenario's simulation.seed */
    uint64_t seed;
    int threads;                  /* 0 = OpenMP's default; results do not depend on it */
    ipabs_progress_fn progress;   /* may be NULL; not called by sweeps */
    void *progress_ctx;
    /* Another way to stop: set *stop to nonzero (from a signal handler or
     * another thread).  May be NULL. */
    volatile sig_atomic_t *stop;
    const char *out_dir;          /* keep the CSVs here; NULL = keep no files */
} ipabs_run_params;

/* The Monte Carlo: tables summary, default_count, loss_distribution, cdr,
 * run, equal to the CLI's `ipabs run` files with the same seed and paths.
 * p may be NULL (the scenario's paths and seed).  When stopped, returns
 * IPABS_EINTERRUPTED; *out then holds the completed prefix of paths (the
 * run table says partial = true), or NULL if no path completed.
 * Errors: IPABS_EINPUT (the model plan), IPABS_EIO, IPABS_ENOMEM,
 * IPABS_EINTERNAL, IPABS_EINTERRUPTED. */
IPABS_API ipabs_status ipabs_session_run(const ipabs_session *s,
                                         const ipabs_run_params *p,
                                         ipabs_results **out,
                                         ipabs_error *err);

/* The Monte Carlo at every point of a grid of scalar scenario keys, with
 * one seed (common random numbers): table sweep, as `ipabs sweep`.
 * grid: n_grid strings "KEY=V1,V2,..." (the CLI's --grid).  The session's
 * scenario is re-read at every point with its overrides and the point's.
 * When stopped, returns IPABS_EINTERRUPTED and *out holds the completed
 * points.  Errors (every one in *errors): IPABS_EINPUT (a bad grid, or a
 * point whose scenario does not validate), IPABS_EIO, IPABS_ENOMEM,
 * IPABS_EINTERNAL, IPABS_EINTERRUPTED. */
IPABS_API ipabs_status ipabs_session_sweep(const ipabs_session *s,
                                           const char *const *grid, int n_grid,
                                           const ipabs_run_params *p,
                                           ipabs_results **out,
                                           ipabs_errors *errors);

#ifdef __cplusplus
}
#endif

#endif
