/*
 * benchkit.c — the measurements bench/run.py drives, one per command, each
 * printing one JSON object on standard output.  Nothing is asserted.
 *
 *   ipabs_benchkit rate   SCENARIO [--paths N | --seconds S] [--threads T] [--seed S]
 *       the engine: ipabs_mc_run (default model + full waterfall + every
 *       measure), paths per second, and the statistics the peers compare:
 *       pool expected_defaults, prob_no_default, expected_loss (static),
 *       guarantor prob_default, the default-count distribution.
 *   ipabs_benchkit draws  SCENARIO [--paths N | --seconds S] [--seed S]
 *                         [--simd auto|scalar|base|avx2|avx512] (rate, simple too)
 *       the default model alone, as the engine draws it (ipabs_mc_sample_only:
 *       batches of paths in SIMD lanes, latent variables, screening, default
 *       periods, guarantor, recoveries of the defaulting loans), one thread.
 *   ipabs_benchkit model  SCENARIO
 *       the default model's inputs (PDs, loadings, terms), for the peers.
 *   ipabs_benchkit rss COMMAND [ARGS...]   |   ipabs_benchkit rss --self
 *       peak resident memory of a command (fork, exec, getrusage of the
 *       child), or of this program itself.
 *   ipabs_benchkit simple SCENARIO [--paths N | --seconds S] [--seed S]
 *       ipabs's draw stages + the simplified waterfall of bench/README.md
 *       written in C for the paths with an event (the same one bench/peers/numpy_reference.py implements), one
 *       thread: the like-for-like comparison with the NumPy peer.
 *
 * With --seconds S the path count is calibrated first (pilot runs of
 * doubling size), then one measured run of about S seconds is made; the
 * JSON gives the path count used so that repeats can reuse it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipabs/model.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"

typedef struct options {
    const char *command;
    const char *scenario;
    long long paths;
    double seconds;
    int threads;
    unsigned long long seed;
    int have_seed;
    int simd; /* --simd KERNEL: the draw kernel (0: the widest) */
} options;

static void usage(void)
{
    fputs("usage: ipabs_benchkit rate|draws|simple|model SCENARIO [--paths N | --seconds S]"
          " [--threads T] [--seed S] [--simd auto|scalar|base|avx2|avx512]\n", stderr);
    exit(2);
}

static void parse(int argc, char **argv, options *o)
{
    if (argc < 3)
        usage();
    o->command = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--paths") == 0 && i + 1 < argc)
            o->paths = atoll(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            o->seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            o->threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--simd") == 0 && i + 1 < argc) {
            o->simd = ipabs_mc_simd_of(argv[++i]);
            if (o->simd < 0 || !ipabs_mc_simd_supported(o->simd))
                usage();
        }
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            o->seed = strtoull(argv[++i], NULL, 10);
            o->have_seed = 1;
        } else if (argv[i][0] == '-' || o->scenario != NULL)
            usage();
        else
            o->scenario = argv[i];
    }
    if (o->scenario == NULL ||
        (strcmp(o->command, "model") != 0 && o->paths <= 0 && o->seconds <= 0.0))
        usage();
    if (o->threads < 1)
        o->threads = 1;
}

/* ---- a measurement: run(paths) returns its wall seconds ------------------- */

typedef double (*runner)(void *ctx, long long paths);

/* Paths for about `seconds` of run(): pilot runs from 256 paths, doubling,
 * then the count rounded up to a multiple of `quantum`. */
static long long calibrate(runner run, void *ctx, double seconds, long long quantum)
{
    long long p = 256;
    double dt = run(ctx, p);
    while (dt < 0.15 * seconds && dt < 0.5 && p < (1LL << 40)) {
        p *= 2;
        dt = run(ctx, p);
    }
    double want = seconds / fmax(dt, 1e-9) * (double)p;
    long long n = (long long)ceil(want / (double)quantum) * quantum;
    return n < quantum ? quantum : n;
}

/* Mean and standard error from running sums. */
typedef struct acc {
    double s1, s2;
} acc;

static void acc_add(acc *a, double x)
{
    a->s1 += x;
    a->s2 += x * x;
}

static void print_stat(const char *name, const acc *a, long long n, int *first)
{
    double m = a->s1 / (double)n;
    double var = n > 1 ? fmax(0.0, (a->s2 - a->s1 * m) / (double)(n - 1)) : 0.0;
    printf("%s\"%s\": [%.17g, %.17g]", *first ? "" : ", ", name, m, sqrt(var / (double)n));
    *first = 0;
}

/* ---- rate: the engine ----------------------------------------------------- */

typedef struct rate_ctx {
    const ipabs_deal *deal;
    uint64_t seed;
    int threads, simd;
    ipabs_mc_result *last;
} rate_ctx;

static double rate_run(void *vctx, long long paths)
{
    rate_ctx *c = vctx;
    ipabs_mc_options opt = {paths, c->seed, c->threads, NULL, NULL, NULL, c->simd};
    ipabs_error err;
    ipabs_mc_result_free(c->last);
    c->last = NULL;
    double t0 = ipabs_mc_seconds();
    if (ipabs_mc_run(c->deal, &opt, &c->last, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    return ipabs_mc_seconds() - t0;
}

static void lookup_stat(const ipabs_deal *deal, const ipabs_mc_result *r,
                        const char *subject, const char *measure,
                        const char *name, int *first)
{
    double v = NAN, se = NAN;
    ipabs_mc_lookup(deal, r, subject, measure, &v, &se);
    printf("%s\"%s\": [%.17g, %.17g]", *first ? "" : ", ", name, v, se);
    *first = 0;
}

static void cmd_rate(const ipabs_deal *deal, const options *o)
{
    rate_ctx c = {deal, o->seed, o->threads, o->simd, NULL};
    long long paths = o->paths > 0 ? o->paths
                                   : calibrate(rate_run, &c, o->seconds, 256);
    double dt = rate_run(&c, paths);
    const ipabs_mc_result *r = c.last;
    double mean_defaults = 0.0;
    for (int k = 0; k <= deal->n_loans; k++)
        mean_defaults += k * (double)r->default_count[k];
    printf("{\"command\": \"rate\", \"loans\": %d, \"periods\": %d, \"paths\": %lld, "
           "\"threads\": %d, \"seconds\": %.6f, \"engine_seconds\": %.6f, "
           "\"paths_per_second\": %.3f, \"ns_per_path\": %.3f, "
           "\"fast_path_share\": %.6f, \"mean_defaults\": %.6f, \"stats\": {",
           deal->n_loans, deal->legal_final, r->paths, r->threads, dt, r->wall_seconds,
           (double)r->paths / dt, 1e9 * dt / (double)r->paths,
           (double)r->fast_paths / (double)r->paths, mean_defaults / (double)r->paths);
    int first = 1;
    lookup_stat(deal, r, "pool", "expected_defaults", "expected_defaults", &first);
    lookup_stat(deal, r, "pool", "prob_no_default", "prob_no_default", &first);
    lookup_stat(deal, r, "pool", "expected_loss", "static_expected_loss", &first);
    lookup_stat(deal, r, "guarantor", "prob_default", "guarantor_prob_default", &first);
    lookup_stat(deal, r, "pool", "expected_credit_loss", "expected_credit_loss", &first);
    lookup_stat(deal, r, deal->tranches[0].name, "expected_loss", "senior_expected_loss", &first);
    lookup_stat(deal, r, "guarantor", "expected_guarantee_payout", "guarantee_payout", &first);
    printf("}, \"default_count\": [");
    for (int k = 0; k <= deal->n_loans; k++)
        printf("%s%llu", k ? ", " : "", (unsigned long long)r->default_count[k]);
    printf("]}\n");
    ipabs_mc_result_free(c.last);
}

/* ---- draws: the default model alone --------------------------------------- */

typedef struct draw_ctx {
    const ipabs_deal *deal;
    ipabs_model_plan *plan;
    uint64_t seed;
    long long defaults, guarantor_defaults;
    int simd;
} draw_ctx;

/* The engine's draw stages alone (ipabs_mc_sample_only): batches of paths
 * in SIMD lanes, screening, realisations of the paths with an event. */
static double draws_run(void *vctx, long long paths)
{
    draw_ctx *c = vctx;
    ipabs_error err;
    double t0 = ipabs_mc_seconds();
    if (ipabs_mc_sample_only(c->deal, c->plan, c->seed, paths, c->simd, NULL, NULL, &c->defaults,
                             &c->guarantor_defaults, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    return ipabs_mc_seconds() - t0;
}

static void cmd_draws(const ipabs_deal *deal, const options *o)
{
    ipabs_error err;
    draw_ctx c = {deal, NULL, o->seed, 0, 0, o->simd};
    if (ipabs_model_plan_build(deal, &c.plan, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    long long paths = o->paths > 0 ? o->paths : calibrate(draws_run, &c, o->seconds, 256);
    double dt = draws_run(&c, paths);
    printf("{\"command\": \"draws\", \"loans\": %d, \"periods\": %d, \"paths\": %lld, "
           "\"threads\": 1, \"seconds\": %.6f, \"paths_per_second\": %.3f, "
           "\"ns_per_path\": %.3f, \"mean_defaults\": %.6f, "
           "\"guarantor_default_share\": %.6f}\n",
           deal->n_loans, deal->legal_final, paths, dt, (double)paths / dt,
           1e9 * dt / (double)paths, (double)c.defaults / (double)paths,
           (double)c.guarantor_defaults / (double)paths);
    ipabs_model_plan_free(c.plan);
}

/* ---- simple: the simplified waterfall of bench/README.md ------------------ */

enum { S_DEFAULTS, S_NO_DEFAULT, S_STATIC, S_G_DEFAULT, S_PLAN_LOSS, S_SENIOR,
       S_SUB, S_PAYOUT, S_COUNT };
static const char *const simple_names[S_COUNT] = {
    "expected_defaults", "prob_no_default", "static_expected_loss",
    "guarantor_prob_default", "plan_loss", "senior_loss", "sub_loss",
    "guarantee_payout"};

typedef struct simple_ctx {
    draw_ctx d;
    double senior_total, sub_total;
    double *static_loss;   /* by loan */
    acc a[S_COUNT];
    unsigned long long *count;
    long long events;      /* paths with an event in the last run */
} simple_ctx;

/* One path with an event through the simplified waterfall. */
static void simple_path(void *vctx, uint64_t path, const ipabs_realisation *r)
{
    (void)path;
    simple_ctx *c = vctx;
    const ipabs_deal *deal = c->d.deal;
    int T = deal->legal_final, lag_p = deal->guarantor.payout_lag;
    int tau_g = r->guarantor_default_period;
    double static_loss = 0.0, plan_loss = 0.0, payout = 0.0;
    for (int j = 0; j < r->n_defaults; j++) {
        int i = r->order[j], tau = r->default_period[i];
        const ipabs_loan *l = &deal->loans[i];
        double ead = l->balance[tau - 1] + l->interest[tau];
        static_loss += c->static_loss[i];
        int pay = tau + lag_p;
        if (pay <= T && (tau_g == 0 || pay < tau_g)) {
            payout += ead; /* the guarantor pays the EAD; it keeps the recovery */
        } else {
            double rec = 0.0;
            if (tau + l->recovery_lag <= T)
                rec = fmax(0.0, fmin(ead, l->ip_value * l->recovery_mean) - l->disposal_cost);
            plan_loss += ead - rec;
        }
    }
    double sub = fmin(plan_loss, c->sub_total);
    double senior = fmin(plan_loss - sub, c->senior_total);
    c->count[r->n_defaults]++;
    c->events++;
    acc_add(&c->a[S_DEFAULTS], r->n_defaults);
    acc_add(&c->a[S_NO_DEFAULT], r->n_defaults == 0);
    acc_add(&c->a[S_STATIC], static_loss);
    acc_add(&c->a[S_G_DEFAULT], tau_g > 0);
    acc_add(&c->a[S_PLAN_LOSS], plan_loss);
    acc_add(&c->a[S_SENIOR], senior);
    acc_add(&c->a[S_SUB], sub);
    acc_add(&c->a[S_PAYOUT], payout);
}

/* The engine's draw stages, the simplified waterfall for the paths with an
 * event; the others (no default, guarantor alive) add zero to every
 * measure but prob_no_default, in one step. */
static double simple_run(void *vctx, long long paths)
{
    simple_ctx *c = vctx;
    const ipabs_deal *deal = c->d.deal;
    ipabs_error err;
    memset(c->a, 0, sizeof c->a);
    memset(c->count, 0, ((size_t)deal->n_loans + 1) * sizeof *c->count);
    c->events = 0;
    double t0 = ipabs_mc_seconds();
    if (ipabs_mc_sample_only(deal, c->d.plan, c->d.seed, paths, c->d.simd, simple_path, c,
                             &c->d.defaults, &c->d.guarantor_defaults, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    long long quiet = paths - c->events;
    c->count[0] += (unsigned long long)quiet;
    c->a[S_NO_DEFAULT].s1 += (double)quiet;
    c->a[S_NO_DEFAULT].s2 += (double)quiet;
    return ipabs_mc_seconds() - t0;
}

static void cmd_simple(const ipabs_deal *deal, const options *o)
{
    ipabs_error err;
    simple_ctx c;
    memset(&c, 0, sizeof c);
    c.d.deal = deal;
    c.d.seed = o->seed;
    c.d.simd = o->simd;
    if (ipabs_model_plan_build(deal, &c.d.plan, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    c.static_loss = calloc((size_t)deal->n_loans, sizeof *c.static_loss);
    c.count = calloc((size_t)deal->n_loans + 1, sizeof *c.count);
    if (!c.static_loss || !c.count) {
        fputs("ipabs_benchkit: out of memory\n", stderr);
        exit(1);
    }
    for (int i = 0; i < deal->n_loans; i++)
        c.static_loss[i] = ipabs_static_loss(&deal->loans[i]);
    for (int k = 0; k < deal->n_tranches; k++) {
        if (k < deal->n_senior)
            c.senior_total += deal->tranches[k].balance;
        else
            c.sub_total += deal->tranches[k].balance;
    }
    long long paths = o->paths > 0 ? o->paths : calibrate(simple_run, &c, o->seconds, 256);
    double dt = simple_run(&c, paths);
    printf("{\"command\": \"simple\", \"loans\": %d, \"periods\": %d, \"paths\": %lld, "
           "\"threads\": 1, \"seconds\": %.6f, \"paths_per_second\": %.3f, "
           "\"ns_per_path\": %.3f, \"stats\": {",
           deal->n_loans, deal->legal_final, paths, dt, (double)paths / dt,
           1e9 * dt / (double)paths);
    int first = 1;
    for (int s = 0; s < S_COUNT; s++)
        print_stat(simple_names[s], &c.a[s], paths, &first);
    printf("}, \"default_count\": [");
    for (int k = 0; k <= deal->n_loans; k++)
        printf("%s%llu", k ? ", " : "", c.count[k]);
    printf("]}\n");
    free(c.count);
    free(c.static_loss);
    ipabs_model_plan_free(c.d.plan);
}

/* ---- model: the inputs a peer needs, as JSON ----------------------------- */

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

static void cmd_model(const ipabs_deal *deal)
{
    ipabs_model_plan *plan;
    ipabs_error err;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_benchkit: %s\n", err.message);
        exit(1);
    }
    /* A peer of the one-factor Gaussian model with constant hazards only. */
    bool simple = deal->model.copula == IPABS_COPULA_GAUSSIAN && deal->model.n_sectors == 0;
    for (int i = 0; i < deal->n_loans; i++)
        simple = simple && deal->loans[i].rating == NULL && deal->loans[i].pd_curve == NULL;
    printf("{\"command\": \"model\", \"frequency\": %d, \"legal_final\": %d, "
           "\"one_factor_gaussian_constant_hazard\": %s, \"loans\": [",
           deal->frequency, deal->legal_final, simple ? "true" : "false");
    for (int i = 0; i < deal->n_loans; i++) {
        printf("%s{\"id\": ", i ? ", " : "");
        json_string(deal->loans[i].id);
        printf(", \"pd\": %.17g, \"loading\": %.17g, \"term\": %d, \"static_loss\": %.17g}",
               fmin(deal->loans[i].pd_annual * deal->model.pd_multiplier, 1.0 - 1e-12),
               plan->a[i], deal->loans[i].term, ipabs_static_loss(&deal->loans[i]));
    }
    printf("], \"guarantor\": {\"pd\": %.17g, \"loading\": %.17g, \"can_default\": %s}}\n",
           fmin(deal->guarantor.pd_annual * deal->model.pd_multiplier, 1.0 - 1e-12),
           plan->g_a, plan->guarantor_can_default ? "true" : "false");
    ipabs_model_plan_free(plan);
}

/* ---- rss: peak resident memory of a command ------------------------------ */

/* Fork and exec the command, wait, and report the child's peak RSS.  A
 * Python parent cannot measure this itself: a child forked from it starts
 * with the interpreter's resident size as its peak, and the peak survives
 * exec.  Forked from this small program the initial peak is this
 * program's (measured with --self), below any ipabs run's. */
static int cmd_rss(int argc, char **argv)
{
    if (argc < 3)
        usage();
    if (strcmp(argv[2], "--self") == 0) {
        /* The high-water mark of this program's own memory (VmHWM), which
         * a forked child starts from; ru_maxrss would include the peak of
         * whatever exec'd this program. */
        long hwm = -1;
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "VmHWM:", 6) == 0)
                hwm = strtol(line + 6, NULL, 10);
        if (f != NULL)
            fclose(f);
        printf("{\"command\": \"rss\", \"max_rss_kib\": %ld}\n", hwm);
        return 0;
    }
    fflush(stdout);
    double t0 = ipabs_mc_seconds();
    pid_t pid = fork();
    if (pid < 0) {
        perror("ipabs_benchkit: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], &argv[2]);
        perror("ipabs_benchkit: exec");
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        perror("ipabs_benchkit: waitpid");
        return 1;
    }
    double dt = ipabs_mc_seconds() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("{\"command\": \"rss\", \"max_rss_kib\": %ld, \"seconds\": %.6f, \"exit\": %d}\n",
           ru.ru_maxrss, dt, code);
    return code;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "rss") == 0)
        return cmd_rss(argc, argv);
    options o = {0};
    parse(argc, argv, &o);
    ipabs_init();
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    if (ipabs_scenario_load(o.scenario, NULL, 0, &deal, &errors) != IPABS_OK) {
        for (size_t i = 0; i < errors.count; i++)
            ipabs_error_print(stderr, &errors.items[i]);
        return 2;
    }
    ipabs_errors_clear(&errors);
    if (!o.have_seed)
        o.seed = deal->simulation.seed;
    if (strcmp(o.command, "rate") == 0)
        cmd_rate(deal, &o);
    else if (strcmp(o.command, "draws") == 0)
        cmd_draws(deal, &o);
    else if (strcmp(o.command, "simple") == 0)
        cmd_simple(deal, &o);
    else if (strcmp(o.command, "model") == 0)
        cmd_model(deal);
    else
        usage();
    ipabs_deal_free(deal);
    return 0;
}
