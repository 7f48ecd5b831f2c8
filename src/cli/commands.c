/*
 * commands.c — `ipabs check`, `cashflow`, `run` and `replay`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "cli.h"
#include "ipabs/montecarlo.h"
#include "ipabs/report.h"
#include "ipabs/resultdir.h"
#include "ipabs/sha256.h"
#include "ipabs/workbook.h"

/* ---- result sets ------------------------------------------------------------ */

const char *cli_out_begin(const cli_args *a, ipabs_result_dir *d, int *code)
{
    ipabs_error err = {0};
    if (ipabs_result_dir_begin(d, a->out_dir, &err) != IPABS_OK) {
        *code = cli_fail(&err);
        return NULL;
    }
    return d->tmp;
}

int cli_out_finish(ipabs_result_dir *d, int code)
{
    if (code != 0 && code != 3 && code != 130) {
        ipabs_result_dir_abort(d);
        return code;
    }
    ipabs_error err = {0};
    int committed;
    if (ipabs_result_dir_commit(d, &committed, &err) != IPABS_OK)
        return cli_fail(&err);
    return code;
}

/* ---- check ---------------------------------------------------------------- */

int cmd_check(const cli_args *a)
{
    int code;
    ipabs_session *s = cli_open(a, &code);
    if (s == NULL)
        return code;
    size_t n = ipabs_session_describe(s, NULL, 0);
    char *text = malloc(n + 1);
    if (text == NULL) {
        ipabs_session_free(s);
        fputs("ipabs: out of memory\n", stderr);
        return 1;
    }
    ipabs_session_describe(s, text, n + 1);
    fputs(text, stdout);
    printf("%s: OK\n", a->scenario);
    free(text);
    ipabs_session_free(s);
    return 0;
}

/* ---- cashflow ------------------------------------------------------------- */

static int run_cashflow(const ipabs_deal *deal, const ipabs_realisation *real,
                        const char *dir, bool bom, const ipabs_path_draws *draws)
{
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    ipabs_result_dir d = {0};
    int code = 0;
    ipabs_status s = ipabs_cashflow_compute(deal, real, &cf, &err);
    if (s != IPABS_OK) {
        ipabs_cashflow_free(cf);
        return cli_fail(&err);
    }
    const char *tmp = cli_out_begin(&(cli_args){.out_dir = dir}, &d, &code);
    if (tmp != NULL) {
        s = ipabs_cashflow_write(deal, cf, tmp, bom, &err);
        if (s == IPABS_OK && draws != NULL)
            s = ipabs_realisation_write(deal, real, draws, tmp, bom, &err);
        code = cli_out_finish(&d, s == IPABS_OK ? 0 : cli_fail(&err));
    }
    if (code == 0)
        ipabs_cashflow_print(stdout, deal, cf);
    ipabs_cashflow_free(cf);
    return code;
}

ipabs_deal *cli_load_with_output(const cli_args *a, int *exit_code)
{
    if (!cli_need_out(a)) {
        *exit_code = 2;
        return NULL;
    }
    return cli_load(a, exit_code);
}

bool cli_need_out(const cli_args *a)
{
    if (a->out_dir != NULL)
        return true;
    fprintf(stderr, "ipabs: %s needs -o DIR\n", a->command);
    return false;
}

int cmd_cashflow(const cli_args *a)
{
    if (!cli_need_out(a))
        return 2;
    int code;
    ipabs_session *s = cli_open(a, &code);
    if (s == NULL)
        return code;
    const ipabs_deal *deal = ipabs_session_deal(s);
    ipabs_realisation *real = ipabs_realisation_alloc(deal);
    ipabs_cashflow_params p = {a->defaults, a->n_defaults, a->guarantor_default, a->out_dir};
    ipabs_error err = {0};
    if (real == NULL) {
        fputs("ipabs: out of memory\n", stderr);
        code = 1;
    } else if (ipabs_api_realisation(deal, &p, real, &err) != IPABS_OK) {
        code = cli_fail(&err);
    } else {
        code = run_cashflow(deal, real, a->out_dir, !a->no_bom, NULL);
    }
    ipabs_realisation_free(real);
    ipabs_session_free(s);
    return code;
}

/* ---- run ------------------------------------------------------------------ */

/* Set by SIGINT/SIGTERM; the only mutable global, as a signal handler needs. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

volatile sig_atomic_t *cli_stop_flag(void)
{
    return &stop_requested;
}

void cli_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct progress {
    double start, last;
    bool show;
} progress;

static void show_progress(void *ctx, long long done, long long total)
{
    progress *p = ctx;
    double now = ipabs_mc_seconds();
    if (!p->show || (now - p->last < 0.2 && done < total))
        return;
    p->last = now;
    double rate = done / fmax(now - p->start, 1e-9);
    int width = 30, filled = (int)(width * (double)done / (double)total);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%% %lld/%lld paths %.3gM paths/s ETA %.0fs ",
            filled, "##############################", width - filled, "",
            100.0 * (double)done / (double)total, done, total, rate / 1e6,
            (double)(total - done) / fmax(rate, 1e-9));
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int write_results(const cli_args *a, const char *dir, const ipabs_deal *deal,
                         const ipabs_mc_result *r)
{
    char sha[65], tape_sha[65], overrides[4096] = "";
    ipabs_error err = {0};
    if (ipabs_sha256_file(a->scenario, sha, &err) != IPABS_OK ||
        ipabs_sha256_file(deal->tape_file, tape_sha, &err) != IPABS_OK)
        return cli_fail(&err);
    for (int i = 0; i < a->n_sets; i++) {
        size_t used = strlen(overrides);
        snprintf(overrides + used, sizeof overrides - used, "%s%s", i ? ";" : "", a->sets[i]);
    }
    ipabs_run_info info = {IPABS_VERSION, a->scenario, sha, tape_sha, overrides, a->no_bom};
    if (ipabs_mc_write(deal, r, &info, dir, &err) != IPABS_OK)
        return cli_fail(&err);
    return 0;
}

int cmd_run(const cli_args *a)
{
    int code;
    ipabs_deal *deal = cli_load_with_output(a, &code);
    if (deal == NULL)
        return code;
    cli_install_signal_handlers();
    progress prog = {ipabs_mc_seconds(), 0.0, !a->quiet && isatty(STDERR_FILENO)};
    ipabs_mc_options opt = {a->paths > 0 ? a->paths : deal->simulation.paths,
                            a->has_seed ? a->seed : deal->simulation.seed,
                            a->threads, cli_stop_flag(), show_progress, &prog, a->simd};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    ipabs_status s = ipabs_mc_run(deal, &opt, &r, &err);
    if (r != NULL && r->paths > 0) {
        ipabs_result_dir d = {0};
        const char *tmp = cli_out_begin(a, &d, &code);
        if (tmp != NULL)
            code = cli_out_finish(&d, write_results(a, tmp, deal, r));
        if (code == 0 && !a->quiet)
            ipabs_mc_print(stdout, deal, r);
        if (code == 0)
            code = cli_workbook(a, IPABS_RESULT_RUN);
        if (code == 0 && s == IPABS_OK && a->check_exact)
            code = cli_check_exact(deal, r);
    }
    if (s == IPABS_EINTERRUPTED && code == 0)
        fprintf(stderr, "ipabs: %s; %s\n", err.message,
                r != NULL && r->paths > 0 ? "partial results written (run.csv: partial=true)"
                                          : "no path completed, nothing written");
    else if (s != IPABS_OK && s != IPABS_EINTERRUPTED)
        code = cli_fail(&err);
    ipabs_mc_result_free(r);
    ipabs_deal_free(deal);
    /* Interrupted: 130, unless writing what was done failed as well. */
    return s == IPABS_EINTERRUPTED && code == 0 ? 130 : code;
}

/* ---- replay --------------------------------------------------------------- */

int cmd_replay(const cli_args *a)
{
    if (!cli_need_out(a))
        return 2;
    if (a->path < 0) {
        fputs("ipabs: replay needs --path K (a path index of the run)\n", stderr);
        return 2;
    }
    int code;
    ipabs_deal *deal = cli_load(a, &code);
    if (deal == NULL)
        return code;
    ipabs_model_plan *plan = NULL;
    ipabs_error err = {0};
    ipabs_realisation *real = ipabs_realisation_alloc(deal);
    ipabs_path_draws draws = {0};
    double *factors = NULL;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK) {
        code = cli_fail(&err);
    } else if (!real || ipabs_path_draws_init(plan, &draws) != IPABS_OK ||
               !(factors = calloc((size_t)plan->n_factors, sizeof(double)))) {
        fputs("ipabs: out of memory\n", stderr);
        code = 1;
    } else {
        uint64_t seed = a->has_seed ? a->seed : deal->simulation.seed;
        ipabs_model_sample(deal, plan, seed, (uint64_t)a->path, factors, real, &draws);
        code = run_cashflow(deal, real, a->out_dir, !a->no_bom, &draws);
    }
    free(factors);
    ipabs_path_draws_release(&draws);
    ipabs_realisation_free(real);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(deal);
    return code;
}
