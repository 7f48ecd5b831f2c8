/*
 * session.c — the embedding API (ipabs.h): a session is a validated
 * scenario (its deal, path and overrides); each call runs it through the
 * same public functions the CLI uses and reads the result files back as
 * typed tables (results.c).
 *
 * It sits above the engine on purpose: it knows the Monte Carlo only by
 * ipabs_mc_run() and ipabs_mc_write(), the realisation only by
 * ipabs_cashflow_compute() and ipabs_cashflow_write(), and sweeps only by
 * ipabs_sweep_run(), so the engine can be rewritten under it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ipabs/montecarlo.h"
#include "ipabs/report.h"
#include "ipabs/scenario.h"
#include "ipabs/sha256.h"
#include "ipabs/sweep.h"

static const char *const run_tables[] = {"summary", "default_count", "loss_distribution",
                                         "cdr", "coverage", "default_count_by_period",
                                         "run", NULL};
static const char *const cashflow_tables[] = {"ledger", "tranches", "periods", NULL};
static const char *const sweep_tables[] = {"sweep", NULL};

static ipabs_status oom(ipabs_error *err)
{
    return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
}

const char *ipabs_version(void)
{
    return IPABS_VERSION;
}

/* ---- sessions ------------------------------------------------------------- */

void ipabs_session_free(ipabs_session *s)
{
    if (s == NULL)
        return;
    ipabs_deal_free(s->deal);
    for (int i = 0; i < s->n_sets; i++)
        free(s->sets[i]);
    free(s->sets);
    free(s->path);
    free(s);
}

static bool copy_args(ipabs_session *s, const char *path, const char *const *sets,
                      int n_sets)
{
    if ((s->path = strdup(path)) == NULL)
        return false;
    if (n_sets > 0 && (s->sets = calloc((size_t)n_sets, sizeof *s->sets)) == NULL)
        return false;
    for (; s->n_sets < n_sets; s->n_sets++)
        if ((s->sets[s->n_sets] = strdup(sets[s->n_sets])) == NULL)
            return false;
    return true;
}

ipabs_status ipabs_session_open(const char *path, const char *const *sets, int n_sets,
                                ipabs_session **out, ipabs_errors *errors)
{
    *out = NULL;
    if (path == NULL || n_sets < 0 || (n_sets > 0 && sets == NULL)) {
        ipabs_errors_add(errors, IPABS_EINPUT, NULL, 0, 0, NULL,
                         "a scenario path is required, and overrides when n_sets > 0");
        return IPABS_EINPUT;
    }
    ipabs_session *s = calloc(1, sizeof *s);
    if (s == NULL || !copy_args(s, path, sets, n_sets)) {
        ipabs_session_free(s);
        ipabs_errors_add(errors, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        return IPABS_ENOMEM;
    }
    ipabs_status st = ipabs_scenario_load(path, sets, n_sets, &s->deal, errors);
    if (st != IPABS_OK) {
        ipabs_session_free(s);
        return st;
    }
    *out = s;
    return IPABS_OK;
}

const ipabs_deal *ipabs_session_deal(const ipabs_session *s)
{
    return s->deal;
}

size_t ipabs_session_describe(const ipabs_session *s, char *buf, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    ipabs_deal_print(mem, s->deal);
    fclose(mem);
    if (size > 0)
        snprintf(buf, size, "%s", text != NULL ? text : "");
    free(text);
    return len;
}

/* ---- check: the deal as tables -------------------------------------------- */

/* A table of strings in the layout csvin.h reads, so that the deal's
 * tables are typed exactly as the result files are. */
static bool cells_alloc(ipabs_table *t, int rows, int cols)
{
    memset(t, 0, sizeof *t);
    t->cell = calloc((size_t)rows, sizeof *t->cell);
    t->row_len = calloc((size_t)rows, sizeof *t->row_len);
    if (t->cell == NULL || t->row_len == NULL)
        return false;
    t->n_cols = cols;
    for (; t->n_rows < rows; t->n_rows++) {
        if ((t->cell[t->n_rows] = calloc((size_t)cols, sizeof(char *))) == NULL)
            return false;
        t->row_len[t->n_rows] = cols;
    }
    return true;
}

static bool put_text(ipabs_table *t, int row, int col, const char *text)
{
    return (t->cell[row][col] = strdup(text != NULL ? text : "")) != NULL;
}

static bool put_num(ipabs_table *t, int row, int col, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return put_text(t, row, col, buf);
}

static bool put_header(ipabs_table *t, const char *const *names)
{
    bool ok = true;
    for (int c = 0; names[c] != NULL; c++)
        ok &= put_text(t, 0, c, names[c]);
    return ok;
}

static bool tranche_cells(const ipabs_deal *deal, ipabs_table *t)
{
    static const char *const head[] = {"name", "class", "balance", "coupon",
                                       "amortisation", "legal_final", NULL};
    bool ok = cells_alloc(t, deal->n_tranches + 1, 6) && put_header(t, head);
    for (int k = 0; ok && k < deal->n_tranches; k++) {
        const ipabs_tranche *tr = &deal->tranches[k];
        ok = put_text(t, k + 1, 0, tr->name) &&
             put_text(t, k + 1, 1, tr->cls == IPABS_CLASS_SENIOR ? "senior" : "sub") &&
             put_num(t, k + 1, 2, tr->balance) && put_num(t, k + 1, 3, tr->coupon) &&
             put_text(t, k + 1, 4, ipabs_tranche_amort_name(tr->amort)) &&
             put_num(t, k + 1, 5, tr->legal_final);
    }
    return ok;
}

static bool loan_cells(const ipabs_deal *deal, ipabs_table *t)
{
    static const char *const head[] = {"id", "firm", "sector", "principal", "rate",
                                       "term", "pd_annual", "ip_value", "recovery_mean",
                                       NULL};
    bool ok = cells_alloc(t, deal->n_loans + 1, 9) && put_header(t, head);
    for (int i = 0; ok && i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        int r = i + 1;
        ok = put_text(t, r, 0, l->id) && put_text(t, r, 1, l->firm) &&
             put_text(t, r, 2, l->sector) && put_num(t, r, 3, l->principal) &&
             put_num(t, r, 4, l->rate) && put_num(t, r, 5, l->term) &&
             put_num(t, r, 6, l->pd_annual) && put_num(t, r, 7, l->ip_value) &&
             put_num(t, r, 8, l->recovery_mean);
    }
    return ok;
}

ipabs_status ipabs_session_check(const ipabs_session *s, ipabs_results **out,
                                 ipabs_error *err)
{
    ipabs_error ignored = {0};
    if (err == NULL)
        err = &ignored; /* the contract allows NULL */
    ipabs_results *r = ipabs_results_new();
    ipabs_table t = {0};
    ipabs_status st = r == NULL || !tranche_cells(s->deal, &t) ? oom(err) : IPABS_OK;
    if (st == IPABS_OK)
        st = ipabs_results_add_cells(r, "tranches", &t, err);
    ipabs_table_free(&t);
    if (st == IPABS_OK)
        st = loan_cells(s->deal, &t) ? ipabs_results_add_cells(r, "loans", &t, err) : oom(err);
    ipabs_table_free(&t);
    if (st != IPABS_OK) {
        ipabs_results_free(r);
        r = NULL;
    }
    *out = r;
    return st;
}

/* ---- files to tables -------------------------------------------------------- */

/* Where the result files go: the caller's out_dir, or a private temporary
 * directory (dir[0] is then set and the directory removed by finish()). */
static ipabs_status target_dir(const char *out_dir, char *tmp, size_t size,
                               ipabs_error *err)
{
    tmp[0] = '\0';
    return out_dir != NULL ? IPABS_OK : ipabs_api_tempdir(tmp, size, err);
}

/* Read the named tables of dir into *out (on s == OK or, for a stopped run
 * that wrote a prefix, EINTERRUPTED), and remove a temporary directory. */
static ipabs_status finish(ipabs_status s, const char *dir, const char *tmp,
                           const char *const *names, ipabs_results **out,
                           ipabs_error *err)
{
    ipabs_error read_err = {0};
    if (s == IPABS_OK || (s == IPABS_EINTERRUPTED && *out == NULL)) {
        ipabs_results *r = ipabs_results_new();
        ipabs_status rs = r == NULL ? oom(&read_err)
                                    : ipabs_results_read_dir(r, dir, names, &read_err);
        if (rs == IPABS_OK) {
            *out = r;
        } else if (s == IPABS_EINTERRUPTED) {
            ipabs_results_free(r); /* stopped before anything was written */
        } else {
            ipabs_results_free(r);
            s = rs;
            *err = read_err;
        }
    }
    if (tmp[0] != '\0')
        ipabs_api_tempdir_remove(tmp, names);
    return s;
}

/* ---- one realisation ------------------------------------------------------ */

static ipabs_status bad_default(ipabs_error *err, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An input error about one --default: "'SPEC': what was expected". */
static ipabs_status bad_default(ipabs_error *err, const char *spec, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "--default", "'%.100s': %s", spec,
                           what);
}

static ipabs_status parse_realisation(const char *spec, const char *text, int i,
                                      ipabs_realisation *real, ipabs_error *err)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return bad_default(err, spec, "realisation must be a number in [0, 1] "
                                      "(fraction of the IP value)");
    real->realisation[i] = v;
    return IPABS_OK;
}

ipabs_status ipabs_api_parse_default(const ipabs_deal *deal, const char *spec,
                                     ipabs_realisation *real, ipabs_error *err)
{
    char id[256];
    const char *at = strchr(spec, '@');
    if (at == NULL || at == spec || (size_t)(at - spec) >= sizeof id)
        return bad_default(err, spec, "expected LOAN@PERIOD[:REALISATION]");
    snprintf(id, sizeof id, "%.*s", (int)(at - spec), spec);
    int i = ipabs_deal_find_loan(deal, id);
    if (i < 0)
        return bad_default(err, spec, "no loan '%s' in the tape", id);
    char *end;
    errno = 0;
    long period = strtol(at + 1, &end, 10);
    int term = deal->loans[i].term;
    if (errno != 0 || end == at + 1 || (*end != '\0' && *end != ':') || period < 1 ||
        period > term)
        return bad_default(err, spec, "period must be an integer from 1 to the loan's "
                                      "term %d", term);
    real->default_period[i] = (int)period;
    return *end == ':' ? parse_realisation(spec, end + 1, i, real, err) : IPABS_OK;
}

ipabs_status ipabs_api_realisation(const ipabs_deal *deal, const ipabs_cashflow_params *p,
                                   ipabs_realisation *real, ipabs_error *err)
{
    for (int k = 0; p != NULL && k < p->n_defaults; k++) {
        ipabs_status s = ipabs_api_parse_default(deal, p->defaults[k], real, err);
        if (s != IPABS_OK)
            return s;
    }
    int g = p != NULL ? p->guarantor_default : 0;
    if (g < 0 || g > deal->legal_final)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "--guarantor-default",
                               "must be a period from 1 to the legal final period %d, "
                               "or 0 for never (got %d)", deal->legal_final, g);
    real->guarantor_default_period = g;
    ipabs_realisation_index(deal, real);
    return IPABS_OK;
}

ipabs_status ipabs_session_cashflow(const ipabs_session *s, const ipabs_cashflow_params *p,
                                    ipabs_results **out, ipabs_error *err)
{
    ipabs_error ignored = {0};
    if (err == NULL)
        err = &ignored; /* the contract allows NULL */
    *out = NULL;
    char tmp[1024];
    const char *out_dir = p != NULL ? p->out_dir : NULL;
    ipabs_realisation *real = ipabs_realisation_alloc(s->deal);
    ipabs_cashflow *cf = NULL;
    ipabs_status st = real == NULL ? oom(err) : ipabs_api_realisation(s->deal, p, real, err);
    if (st == IPABS_OK)
        st = ipabs_cashflow_compute(s->deal, real, &cf, err);
    if (st == IPABS_OK)
        st = target_dir(out_dir, tmp, sizeof tmp, err);
    else
        tmp[0] = '\0';
    const char *dir = out_dir != NULL ? out_dir : tmp;
    if (st == IPABS_OK)
        st = ipabs_cashflow_write(s->deal, cf, dir, true, err);
    st = finish(st, dir, tmp, cashflow_tables, out, err);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(real);
    return st;
}

/* ---- Monte Carlo ------------------------------------------------------------ */

typedef struct relay {
    ipabs_progress_fn fn;
    void *ctx;
    volatile sig_atomic_t *stop;
} relay;

/* The engine's progress hook returns nothing; a callback's stop request
 * becomes the engine's stop flag. */
static void relay_progress(void *ctx, long long done, long long total)
{
    relay *r = ctx;
    if (r->fn != NULL && r->fn(r->ctx, done, total) != 0)
        *r->stop = 1;
}

/* The overrides as run.csv records them: ';'-separated. */
static void join_sets(const ipabs_session *s, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < s->n_sets; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ";" : "", s->sets[i]);
    }
}

static ipabs_status write_run(const ipabs_session *s, const ipabs_mc_result *r,
                              const char *dir, ipabs_error *err)
{
    char sha[65], tape_sha[65], overrides[4096];
    ipabs_status st = ipabs_sha256_file(s->path, sha, err);
    if (st == IPABS_OK)
        st = ipabs_sha256_file(s->deal->tape_file, tape_sha, err);
    if (st != IPABS_OK)
        return st;
    join_sets(s, overrides, sizeof overrides);
    ipabs_run_info info = {IPABS_VERSION, s->path, sha, tape_sha, overrides, false};
    return ipabs_mc_write(s->deal, r, &info, dir, err);
}

ipabs_status ipabs_session_run(const ipabs_session *s, const ipabs_run_params *p,
                               ipabs_results **out, ipabs_error *err)
{
    ipabs_error ignored = {0};
    if (err == NULL)
        err = &ignored; /* the contract allows NULL */
    static const ipabs_run_params defaults = {0};
    *out = NULL;
    if (p == NULL)
        p = &defaults;
    volatile sig_atomic_t own_stop = 0;
    relay rl = {p->progress, p->progress_ctx, p->stop != NULL ? p->stop : &own_stop};
    ipabs_mc_options opt = {p->paths > 0 ? p->paths : s->deal->simulation.paths,
                            p->has_seed ? p->seed : s->deal->simulation.seed,
                            p->threads, rl.stop, relay_progress, &rl, 0};
    ipabs_mc_result *r = NULL;
    char tmp[1024] = "";
    ipabs_status st = ipabs_mc_run(s->deal, &opt, &r, err);
    bool write = (st == IPABS_OK || st == IPABS_EINTERRUPTED) && r != NULL && r->paths > 0;
    ipabs_error run_err = *err;
    ipabs_status ws = write ? target_dir(p->out_dir, tmp, sizeof tmp, err) : IPABS_OK;
    const char *dir = p->out_dir != NULL ? p->out_dir : tmp;
    if (write && ws == IPABS_OK)
        ws = write_run(s, r, dir, err);
    ipabs_mc_result_free(r);
    if (!write || ws != IPABS_OK) {
        if (tmp[0] != '\0')
            ipabs_api_tempdir_remove(tmp, run_tables);
        return ws != IPABS_OK ? ws : st;
    }
    ws = finish(IPABS_OK, dir, tmp, run_tables, out, err);
    if (ws != IPABS_OK)
        return ws;
    *err = run_err;
    return st;
}

/* ---- sweeps ------------------------------------------------------------------- */

static ipabs_status grid_of(const char *const *grid, int n_grid, ipabs_sweep_grid *g,
                            ipabs_errors *errors)
{
    ipabs_error e = {0};
    memset(g, 0, sizeof *g);
    if (n_grid < 1 || grid == NULL) {
        ipabs_errors_add(errors, IPABS_EINPUT, "--grid", 0, 0, NULL,
                         "a sweep needs at least one KEY=V1,V2,...");
        return IPABS_EINPUT;
    }
    for (int i = 0; i < n_grid; i++)
        if (ipabs_sweep_add_axis(g, grid[i], &e) != IPABS_OK) {
            ipabs_errors_add(errors, e.code, e.file, e.line, e.column, e.field, "%s",
                             e.message);
            return e.code;
        }
    return IPABS_OK;
}

ipabs_status ipabs_session_sweep(const ipabs_session *s, const char *const *grid,
                                 int n_grid, const ipabs_run_params *p,
                                 ipabs_results **out, ipabs_errors *errors)
{
    static const ipabs_run_params defaults = {0};
    *out = NULL;
    if (p == NULL)
        p = &defaults;
    ipabs_sweep_grid g;
    ipabs_status st = grid_of(grid, n_grid, &g, errors);
    if (st != IPABS_OK)
        return st;
    volatile sig_atomic_t own_stop = 0;
    ipabs_sweep_options opt = {s->path, (const char *const *)s->sets, s->n_sets, p->paths,
                               p->has_seed, p->seed, p->threads,
                               p->stop != NULL ? p->stop : &own_stop, false, 0};
    char tmp[1024];
    ipabs_error e = {0};
    st = target_dir(p->out_dir, tmp, sizeof tmp, &e);
    const char *dir = p->out_dir != NULL ? p->out_dir : tmp;
    if (st == IPABS_OK)
        st = ipabs_sweep_run(&opt, &g, dir, errors);
    else
        ipabs_errors_add(errors, e.code, e.file, 0, 0, NULL, "%s", e.message);
    ipabs_status fs = finish(st, dir, tmp, sweep_tables, out, &e);
    if (fs != st && fs != IPABS_OK)
        ipabs_errors_add(errors, e.code, e.file, e.line, e.column, NULL, "%s", e.message);
    return fs;
}
