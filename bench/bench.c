/*
 * bench.c — throughput of the Monte Carlo engine on a scenario: paths per
 * second with 1, 2, ... threads (up to the machine's cores), the speed-up
 * and parallel efficiency as ratios measured in the same run, the share of
 * paths on the no-default fast path, and the cost of the random draws
 * alone.  Each configuration is run `repeats` times, alternating, and the
 * median is reported.  Nothing here is asserted: it is a measurement.
 *
 *   ipabs_bench [SCENARIO] [--paths N] [--repeats R] [--csv FILE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ipabs/csvout.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"

#define MAX_THREADS 64
#define MAX_REPEATS 15

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds for the random draws of `paths` paths on one thread, as the
 * engine draws them (batches in SIMD lanes, realisations of the event
 * paths), without the waterfall. */
static double time_draws(const ipabs_deal *deal, long long paths)
{
    ipabs_model_plan *plan;
    ipabs_error err;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK)
        return NAN;
    long long defaults = 0, guarantor = 0;
    double t0 = ipabs_mc_seconds();
    ipabs_status s = ipabs_mc_sample_only(deal, plan, deal->simulation.seed, paths, 0, NULL,
                                          NULL, &defaults, &guarantor, &err);
    double dt = ipabs_mc_seconds() - t0;
    ipabs_model_plan_free(plan);
    return s == IPABS_OK ? dt : NAN;
}

static double run_once(const ipabs_deal *deal, long long paths, int threads,
                       double *fast_share)
{
    ipabs_mc_options opt = {paths, deal->simulation.seed, threads, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err;
    if (ipabs_mc_run(deal, &opt, &r, &err) != IPABS_OK) {
        fprintf(stderr, "ipabs_bench: %s\n", err.message);
        exit(1);
    }
    double rate = (double)r->paths / r->wall_seconds;
    *fast_share = (double)r->fast_paths / (double)r->paths;
    ipabs_mc_result_free(r);
    return rate;
}

typedef struct config {
    const char *scenario;
    const char *csv;
    long long paths;
    int repeats;
} config;

static void parse(int argc, char **argv, config *c)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--paths") == 0 && i + 1 < argc)
            c->paths = atoll(argv[++i]);
        else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            c->repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            c->csv = argv[++i];
        else
            c->scenario = argv[i];
    }
    if (c->repeats < 1)
        c->repeats = 1;
    if (c->repeats > MAX_REPEATS)
        c->repeats = MAX_REPEATS;
}

int main(int argc, char **argv)
{
    config c = {IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml", NULL, 2000000, 3};
    parse(argc, argv, &c);
    ipabs_init();
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    if (ipabs_scenario_load(c.scenario, NULL, 0, &deal, &errors) != IPABS_OK) {
        for (size_t i = 0; i < errors.count; i++)
            ipabs_error_print(stderr, &errors.items[i]);
        return 2;
    }
    ipabs_errors_clear(&errors);
#ifdef _OPENMP
    int max_threads = omp_get_num_procs();
#else
    int max_threads = 1;
#endif
    if (max_threads > MAX_THREADS)
        max_threads = MAX_THREADS;
    static double rates[MAX_THREADS + 1][MAX_REPEATS];
    double fast = 0.0;
    for (int rep = 0; rep < c.repeats; rep++)
        for (int t = 1; t <= max_threads; t++)
            rates[t][rep] = run_once(deal, c.paths, t, &fast);
    double draws = time_draws(deal, c.paths / 4) / (double)(c.paths / 4);
    printf("scenario %s: %d loans, %d periods, %lld paths, median of %d alternating runs\n",
           c.scenario, deal->n_loans, deal->legal_final, c.paths, c.repeats);
    printf("%-8s %16s %10s %11s\n", "threads", "paths/s", "speed-up", "efficiency");
    double base = median(rates[1], c.repeats);
    ipabs_csv_out w;
    ipabs_error err;
    /* --csv DIR/NAME or NAME (in the working directory). */
    char csv_dir[1024] = ".";
    const char *csv_name = c.csv;
    const char *slash = c.csv != NULL ? strrchr(c.csv, '/') : NULL;
    if (slash != NULL && (size_t)(slash - c.csv) < sizeof csv_dir) {
        snprintf(csv_dir, sizeof csv_dir, "%.*s", (int)(slash - c.csv), c.csv);
        if (csv_dir[0] == '\0')
            strcpy(csv_dir, "/");
        csv_name = slash + 1;
    }
    bool csv = c.csv != NULL && ipabs_csv_open(&w, csv_dir, csv_name, false, &err) == IPABS_OK;
    if (c.csv != NULL && !csv)
        ipabs_error_print(stderr, &err);
    static const char *const head[] = {"scenario", "loans", "periods", "paths", "threads",
                                       "paths_per_second", "speedup", "efficiency",
                                       "fast_path_share", "draw_ns_per_path", NULL};
    if (csv)
        ipabs_csv_header(&w, head);
    for (int t = 1; t <= max_threads; t++) {
        double m = median(rates[t], c.repeats);
        printf("%-8d %16.0f %10.3f %10.1f%%\n", t, m, m / base, 100.0 * m / base / t);
        if (csv) {
            ipabs_csv_text(&w, c.scenario);
            ipabs_csv_int(&w, deal->n_loans);
            ipabs_csv_int(&w, deal->legal_final);
            ipabs_csv_int(&w, c.paths);
            ipabs_csv_int(&w, t);
            ipabs_csv_num(&w, m, 0);
            ipabs_csv_num(&w, m / base, 4);
            ipabs_csv_num(&w, m / base / t, 4);
            ipabs_csv_num(&w, fast, 6);
            ipabs_csv_num(&w, draws * 1e9, 1);
            ipabs_csv_end_row(&w);
        }
    }
    printf("fast-path share %.4f; random draws alone %.1f ns per path (1 thread), "
           "%.1f%% of a path's time\n", fast, draws * 1e9, 100.0 * draws * base);
    if (csv && ipabs_csv_commit(&w, &err) != IPABS_OK)
        ipabs_error_print(stderr, &err);
    ipabs_deal_free(deal);
    return 0;
}
