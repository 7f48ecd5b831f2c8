/*
 * test_batch.c — the batch engine's draws: the SIMD kernels against the
 * scalar kernel bit for bit, ipabs's own log against libm, the normals
 * rising with their words (the screen's bounds rest on it), the batch's
 * realisation of a path against the one-path sampler replay uses, each
 * width's count of a default's period against the scalar one, a
 * whole run with each SIMD width against the scalar run, and the measures
 * stage's sums against sums taken entry by entry.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "draw_internal.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"

static const int widths[] = {BATCH_SIMD_SCALAR, BATCH_SIMD_BASE, BATCH_SIMD_AVX2,
                             BATCH_SIMD_AVX512};
#define N_WIDTHS 4

static void setup(void)
{
    ipabs_init();
}

static ipabs_deal *load(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s", IPABS_SOURCE_DIR, rel);
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(path, NULL, 0, &d, &errors), IPABS_OK, "%s", rel);
    ipabs_errors_clear(&errors);
    return d;
}

/* log to within 2 ulp of libm's over the range the normals use. */
Test(batch, own_log_agrees_with_libm)
{
    double worst = 0.0;
    for (double x = 0x1p-33; x <= 0.5000001; x *= 1.0009765625) {
        for (int k = 0; k < 3; k++) {
            double y = nextafter(x, 1.0) + k * 1e-7 * x;
            double rel = fabs(draw_log(y) - log(y)) / fabs(log(y));
            worst = rel > worst ? rel : worst;
        }
    }
    cr_assert(worst <= 2.0 * 0x1p-52, "worst relative error %g", worst);
}

/* The screen's lower bounds rest on this: a normal never falls as its
 * word rises, checked over every one of the 2^32 words in the vector
 * kernel (about 16 s in a Release build).  Under the sanitizers, where the
 * kernel is many times slower, one range of 2^16 words in 61 is checked,
 * and every bucket's first words and the words around the switch between
 * AS 241's regions (|q| = 0.425). */
static void check_rising(uint32_t first, uint32_t count, double *prev, bool have_prev)
{
    static uint32_t w[1 << 16];
    static double z[1 << 16];
    for (uint32_t k = 0; k < count; k++)
        w[k] = first + k;
    batch_draw_normals(batch_simd_widest(), (int)count, w, z);
    for (uint32_t k = 0; k < count; k++) {
        if (have_prev || k > 0)
            cr_assert(z[k] >= (k > 0 ? z[k - 1] : *prev), "normal of word %u falls: %.17g",
                      first + k, z[k]);
    }
    *prev = z[count - 1];
}

Test(batch, normals_do_not_fall_with_the_word, .init = setup, .timeout = 600)
{
    double prev = 0.0;
#if defined(__SANITIZE_ADDRESS__)
    for (uint64_t first = 0; first < (1ull << 32); first += 61ull << 16)
        check_rising((uint32_t)first, 1u << 16, &prev, false);
    for (uint64_t k = 0; k < (1u << BATCH_BOUND_BITS); k++) {
        uint64_t start = k << BATCH_BOUND_SHIFT;
        check_rising((uint32_t)(start > 64 ? start - 64 : 0), 128, &prev, false);
    }
    /* q = u - 1/2 = +-0.425: words about (0.5 -+ 0.425) 2^32. */
    check_rising((uint32_t)(0.075 * 4294967296.0) - 2048, 4096, &prev, false);
    check_rising((uint32_t)(0.925 * 4294967296.0) - 2048, 4096, &prev, false);
#else
    for (uint64_t first = 0; first < (1ull << 32); first += 1u << 16)
        check_rising((uint32_t)first, 1u << 16, &prev, first > 0);
#endif
}

/* The bound of a bucket is the normal of its first word, and no word of
 * the bucket has a lower normal (spot check of the table itself). */
Test(batch, bounds_table_is_each_buckets_first_normal, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml");
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    batch_ws *b = batch_ws_alloc(d, plan, BATCH_SIMD_SCALAR);
    for (uint32_t k = 0; k < (1u << BATCH_BOUND_BITS); k++) {
        uint32_t w0 = k << BATCH_BOUND_SHIFT, w1 = w0 | ((1u << BATCH_BOUND_SHIFT) - 1);
        cr_assert(memcmp(&b->bound[k], &(double){draw_normal(w0)}, sizeof(double)) == 0);
        cr_assert(draw_normal(w1) >= b->bound[k]);
        cr_assert(draw_normal(w0 + 12345u) >= b->bound[k]);
    }
    /* The AVX-512 screen's coarse table: every 32nd bound, the same bits. */
    for (int k = 0; k < (1 << BATCH_COARSE_BITS); k++)
        cr_assert(memcmp(&b->coarse[k], &b->bound[k << (BATCH_BOUND_BITS - BATCH_COARSE_BITS)],
                         sizeof(double)) == 0);
    /* The reference deal: the factor row exact, loans and guarantor bounded. */
    cr_assert(b->exact[0]);
    for (int j = 1; j < b->n_normals; j++)
        cr_assert(!b->exact[j], "row %d", j);
    batch_ws_free(b);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

/* Every width draws the scalar kernel's words and exact normals, and its
 * screen finds the same defaults with the same latent variables, bit for
 * bit, including a batch whose path indices cross 2^32 (the counter's
 * high word). */
static void same_screen(const batch_ws *b, const batch_ws *ref, int n, int width,
                        unsigned long long first)
{
    for (int j = 0; j < ref->n_normals; j++) {
        cr_assert(memcmp(&b->w[(size_t)j * b->cap], &ref->w[(size_t)j * ref->cap],
                         (size_t)n * sizeof(uint32_t)) == 0,
                  "width %d, first path %llu, word %d", width, first, j);
        if (ref->exact[j])
            cr_assert(memcmp(&b->z[(size_t)j * b->cap], &ref->z[(size_t)j * ref->cap],
                             (size_t)n * sizeof(double)) == 0,
                      "width %d, first path %llu, normal %d", width, first, j);
    }
    /* The candidates too: the AVX-512 screen refines its coarse table's. */
    cr_assert_eq(b->n_cand, ref->n_cand, "width %d, first path %llu", width, first);
    cr_assert(memcmp(b->cand_path, ref->cand_path, (size_t)ref->n_cand * sizeof(int)) == 0);
    cr_assert(memcmp(b->n_default, ref->n_default, (size_t)n * sizeof(int)) == 0);
    cr_assert(memcmp(b->g_default, ref->g_default, (size_t)n * sizeof(int)) == 0);
    cr_assert_eq(b->n_events, ref->n_events);
    cr_assert_eq(b->n_dflt, ref->n_dflt);
    for (int k = 0; k < ref->n_dflt; k++) {
        cr_assert_eq(b->dflt_loan[k], ref->dflt_loan[k]);
        cr_assert_eq(b->dflt_path[k], ref->dflt_path[k]);
    }
    int pairs = ref->event_first[ref->n_events];
    cr_assert_eq(b->event_first[b->n_events], pairs);
    cr_assert(memcmp(b->pair_loan, ref->pair_loan, (size_t)pairs * sizeof(int)) == 0);
    cr_assert(memcmp(b->pair_period, ref->pair_period, (size_t)pairs * sizeof(int)) == 0);
    cr_assert(memcmp(b->pair_recovery, ref->pair_recovery, (size_t)pairs * sizeof(double)) == 0,
              "width %d, first path %llu: recoveries", width, first);
}

/* A default's period, counted by each width's kernel, equals the scalar
 * draw_default_period and a count written out here, on threshold rows of
 * every length from 1 to 130 periods (ties, -inf and +inf among them), at
 * every threshold, one ulp either side of it, and beyond both ends. */
static int period_by_hand(const double *thr, int last, double x)
{
    if (!(x <= thr[last]))
        return 0;
    int t = 1;
    while (!(x <= thr[t]))
        t++;
    return t;
}

Test(batch, default_periods_agree_across_widths, .init = setup)
{
    enum { MAXT = 130 };
    double thr[MAXT + 1];
    unsigned rng = 12345u;
    long checked = 0;
    for (int last = 1; last <= MAXT; last++) {
        thr[0] = -INFINITY;
        double v = -6.0;
        for (int t = 1; t <= last; t++) {
            rng = rng * 1103515245u + 12345u;
            unsigned r = (rng >> 16) & 7u;
            thr[t] = r == 0 ? thr[t - 1] /* a tie */
                   : t == 1 && r == 1 ? -INFINITY
                   : (v += 0.05 * (double)r);
        }
        if (last % 7 == 0)
            thr[last] = INFINITY; /* a cumulative PD of 1 */
        for (int t = 0; t <= last + 1; t++) {
            double at = t == 0 ? -50.0 : t > last ? 50.0 : thr[t];
            double xs[3] = {nextafter(at, -INFINITY), at, nextafter(at, INFINITY)};
            for (int j = 0; j < 3; j++) {
                if (isinf(xs[j]))
                    continue;
                int want = period_by_hand(thr, last, xs[j]);
                cr_assert_eq(draw_default_period(thr, last, xs[j]), want,
                             "scalar: last %d, x %.17g", last, xs[j]);
                for (int k = 0; k < N_WIDTHS; k++)
                    if (batch_simd_supported(widths[k]))
                        cr_assert_eq(batch_default_period(widths[k], thr, last, xs[j]), want,
                                     "width %d: last %d, x %.17g", widths[k], last, xs[j]);
                checked++;
            }
        }
    }
    cr_assert_gt(checked, 20000);
}

Test(batch, simd_widths_draw_the_same_bits, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml");
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    const uint64_t firsts[] = {0, 4096 * 7 + 3, 0xffffffffull - 37};
    batch_ws *ref = batch_ws_alloc(d, plan, BATCH_SIMD_SCALAR);
    int n = ref->cap - 5;
    for (int f = 0; f < 3; f++) {
        batch_draw(plan, 0x5eed2385ull, firsts[f], n, ref);
        batch_screen(plan, n, ref);
        batch_defaults(plan, 0x5eed2385ull, firsts[f], ref);
        cr_assert(ref->n_dflt > 0);
        for (int k = 1; k < N_WIDTHS; k++) {
            if (!batch_simd_supported(widths[k])) {
                cr_log_warn("width %d not supported here: not tested", widths[k]);
                continue;
            }
            batch_ws *b = batch_ws_alloc(d, plan, widths[k]);
            batch_draw(plan, 0x5eed2385ull, firsts[f], n, b);
            batch_screen(plan, n, b);
            batch_defaults(plan, 0x5eed2385ull, firsts[f], b);
            same_screen(b, ref, n, widths[k], (unsigned long long)firsts[f]);
            batch_ws_free(b);
        }
    }
    batch_ws_free(ref);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

/* The batch's realisation of path p (draw → screen → realise) equals the
 * one-path sampler's (replay), for every path of two batches: Gaussian
 * with Beta recoveries, Student-t, and two sectors. */
/* Returns the most defaults a compared path had.  df > 0 replaces the
 * Student-t copula's degrees of freedom. */
static int batch_equals_replay_df(const char *scenario, double df)
{
    ipabs_deal *d = load(scenario);
    if (df > 0.0)
        d->model.df = df;
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    batch_ws *b = batch_ws_alloc(d, plan, batch_simd_widest());
    ipabs_realisation *rb = ipabs_realisation_alloc(d), *rs = ipabs_realisation_alloc(d);
    double z[64];
    uint64_t seed = 977;
    int events = 0, most = 0;
    for (uint64_t first = 0; first < 2 * (uint64_t)b->cap; first += (uint64_t)b->cap) {
        batch_draw(plan, seed, first, b->cap, b);
        /* The mixing, to the bit, as replay draws it. */
        for (int p = 0; p < b->cap; p++) {
            double m = plan->copula->mixing(seed, first + (uint64_t)p, plan->df);
            cr_assert(memcmp(&b->mix[p], &m, sizeof m) == 0,
                      "%s path %d: mixing %.17g, replay's %.17g", scenario, p, b->mix[p], m);
        }
        batch_screen(plan, b->cap, b);
        batch_defaults(plan, seed, first, b);
        int e = 0;
        for (int p = 0; p < b->cap; p++) {
            ipabs_model_sample(d, plan, seed, first + (uint64_t)p, z, rs, NULL);
            bool event = rs->n_defaults > 0 || rs->guarantor_default_period > 0;
            cr_assert_eq(b->n_default[p] + b->g_default[p] > 0, event,
                         "%s path %d: event flag", scenario, p);
            cr_assert_eq(b->n_default[p], rs->n_defaults, "%s path %d: defaults", scenario, p);
            if (!event)
                continue;
            cr_assert_eq(b->event_path[e], p);
            batch_realise(plan, b, e, rb);
            cr_assert_eq(rb->n_defaults, rs->n_defaults);
            most = rb->n_defaults > most ? rb->n_defaults : most;
            cr_assert_eq(rb->guarantor_default_period, rs->guarantor_default_period);
            for (int j = 0; j < rs->n_defaults; j++) {
                int i = rs->order[j];
                cr_assert_eq(rb->order[j], i);
                cr_assert_eq(rb->default_period[i], rs->default_period[i]);
                cr_assert(memcmp(&rb->realisation[i], &rs->realisation[i], sizeof(double)) == 0,
                          "%s path %d loan %d: recovery", scenario, p, i);
            }
            batch_unrealise(b, e++, rb);
            for (int i = 0; i < d->n_loans; i++)
                cr_assert_eq(rb->default_period[i], 0);
        }
        cr_assert_eq(e, b->n_events);
        events += e;
    }
    cr_assert(events > 0, "%s: no event path to compare", scenario);
    ipabs_realisation_free(rb);
    ipabs_realisation_free(rs);
    batch_ws_free(b);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
    return most;
}

static int batch_equals_replay(const char *scenario)
{
    return batch_equals_replay_df(scenario, 0.0);
}

Test(batch, batch_realisation_equals_replay_gaussian, .init = setup)
{
    (void)batch_equals_replay("shenyang-ip-abs.yaml");
}

Test(batch, batch_realisation_equals_replay_student_t, .init = setup)
{
    (void)batch_equals_replay("validation/student-t-4.yaml");
}

/* The mixing's chi-square: the first attempt in lanes, the rest scalar
 * (nu = 4 above); a shape a = nu/2 below 1 takes the scalar route with its
 * boost (nu = 1.5); a large nu, where the squeeze accepts nearly always. */
Test(batch, batch_realisation_equals_replay_student_t_boost_and_large_df, .init = setup)
{
    (void)batch_equals_replay_df("validation/student-t-4.yaml", 1.5);
    (void)batch_equals_replay_df("validation/student-t-4.yaml", 30.0);
}

Test(batch, batch_realisation_equals_replay_sectors, .init = setup)
{
    (void)batch_equals_replay("validation/two-sectors.yaml");
}

/* Importance sampling: shifted rows are drawn exactly, the others bounded. */
Test(batch, batch_realisation_equals_replay_importance, .init = setup)
{
    (void)batch_equals_replay("validation/rare-senior-1e4.yaml");
}

/* A large pool: paths with more defaults than batch_realise sorts by
 * insertion, ordered by its counting sort. */
Test(batch, batch_realisation_equals_replay_large_pool, .init = setup)
{
    int most = batch_equals_replay("validation/vasicek-1000.yaml");
    cr_assert(most > 8, "no path with more than 8 defaults (most %d)", most);
}

static ipabs_mc_result *run(const ipabs_deal *d, int simd, int threads)
{
    ipabs_mc_options opt = {2 * IPABS_MC_CHUNK + 333, 31, threads, NULL, NULL, NULL, simd};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_OK, "%s", err.message);
    return r;
}

/* A whole run gives the same bits with every width and thread count. */
Test(batch, runs_agree_across_widths_bit_for_bit, .init = setup)
{
    ipabs_deal *d = load("validation/student-t-4.yaml");
    ipabs_mc_result *ref = run(d, BATCH_SIMD_SCALAR, 1);
    cr_assert_eq(ref->simd, BATCH_SIMD_SCALAR);
    for (int k = 1; k < N_WIDTHS; k++) {
        if (!batch_simd_supported(widths[k]))
            continue;
        ipabs_mc_result *r = run(d, widths[k], 2);
        cr_assert_eq(r->simd, widths[k]);
        cr_assert_eq(r->paths, ref->paths);
        cr_assert_eq(r->fast_paths, ref->fast_paths);
        cr_assert(memcmp(r->moments, ref->moments,
                         (size_t)r->layout.count * sizeof *r->moments) == 0,
                  "width %d: moments differ", widths[k]);
        cr_assert(memcmp(r->default_count, ref->default_count,
                         ((size_t)d->n_loans + 1) * sizeof(uint64_t)) == 0);
        ipabs_mc_result_free(r);
    }
    ipabs_mc_result_free(ref);
    ipabs_deal_free(d);
}

Test(batch, unsupported_width_is_refused, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml");
    ipabs_mc_options opt = {100, 1, 1, NULL, NULL, NULL, 3};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_EINPUT);
    cr_assert_null(r);
    cr_assert(strstr(err.message, "no draw kernel has 3 lanes") != NULL, "%s", err.message);
    cr_assert_str_eq(err.field, "simd");
    ipabs_deal_free(d);
}

/* The kernels' names, as --simd reads them and run.csv writes them. */
Test(batch, kernel_names_round_trip)
{
    static const char *const names[] = {"scalar", "base", "avx2", "avx512"};
    for (int k = 0; k < N_WIDTHS; k++) {
        cr_assert_str_eq(ipabs_mc_simd_name(widths[k]), names[k]);
        cr_assert_eq(ipabs_mc_simd_of(names[k]), widths[k]);
        cr_assert_eq(ipabs_mc_simd_supported(widths[k]), batch_simd_supported(widths[k]));
    }
    cr_assert_eq(ipabs_mc_simd_of("auto"), 0);
    cr_assert(ipabs_mc_simd_supported(0));
    cr_assert_eq(ipabs_mc_simd_of("AVX2"), -1);
    cr_assert_eq(ipabs_mc_simd_of("sse4"), -1);
    cr_assert_eq(ipabs_mc_simd_of(""), -1);
    cr_assert_null(ipabs_mc_simd_name(0));
    cr_assert_null(ipabs_mc_simd_name(2));
    cr_assert(batch_simd_supported(batch_simd_widest()));
}

/* batch_measures' sums of the event records (branch-free over the
 * entries, a NaN entry adding +0.0) against the sums taken entry by entry
 * with the NaNs skipped, to the bit: real event records of an accelerated
 * reference deal, with NaN, -0.0 and +0.0 written into some entries. */
Test(batch, measures_sums_equal_the_entry_by_entry_sums, .init = setup)
{
    const char *set[] = {"model.pd_multiplier=5"};
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml", set, 1,
                                     &d, &errors), IPABS_OK);
    ipabs_errors_clear(&errors);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    ipabs_mc_path *w = ipabs_mc_path_alloc(d, plan, &err);
    cr_assert(w != NULL);
    ipabs_mc_layout L = ipabs_mc_layout_of(d);
    enum { EVENTS = 300 };
    int M = L.count, n_trackers = d->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_COUNT_;
    double *rec = malloc((size_t)EVENTS * (size_t)M * sizeof(double));
    double *base = malloc((size_t)M * sizeof(double)), *base0 = malloc((size_t)M * sizeof(double));
    const double *v;
    cr_assert_eq(ipabs_mc_path_eval(w, 3, 0, &v, &err), IPABS_OK);
    int n = 0;
    for (uint64_t p = 0; n < EVENTS; p++) {
        cr_assert_eq(ipabs_mc_path_eval(w, 3, p, &v, &err), IPABS_OK, "%s", err.message);
        const ipabs_realisation *r = ipabs_mc_path_realisation(w);
        if (r->n_defaults == 0 && r->guarantor_default_period == 0)
            continue;
        memcpy(&rec[(size_t)n++ * (size_t)M], v, (size_t)M * sizeof(double));
    }
    /* The no-default record: the last event record with some entries NaN. */
    for (int j = 0; j < M; j++) {
        base[j] = j % 7 == 3 ? NAN : rec[(size_t)(EVENTS - 1) * (size_t)M + j];
        base0[j] = isnan(base[j]) ? 0.0 : base[j];
    }
    /* Entries free to overwrite: none that the counts read. */
    for (int e = 0; e < EVENTS; e++)
        for (int j = 0; j < M; j++) {
            bool counted = j == L.pool0 + IPABS_PM_DEFAULTS || j == L.pool0 + IPABS_PM_STATIC_LOSS ||
                           (j >= L.defaults0 && j < L.defaults0 + L.n_periods) ||
                           (j >= L.loan0 && j < L.period0);
            double *x = &rec[(size_t)e * (size_t)M + j];
            if (counted)
                continue;
            int u = (e * 31 + j * 17) % 23;
            *x = u == 0 ? NAN : u == 1 ? -0.0 : u == 2 ? 0.0 : u == 3 ? base0[j] : *x;
        }
    int *event_first = calloc(EVENTS + 1, sizeof(int));
    batch_ws b = {0};
    b.n_events = EVENTS;
    b.records = rec;
    b.record_size = M;
    b.event_first = event_first;
    chunk_acc c = {0};
    c.s1 = calloc(3 * (size_t)M, sizeof(double));
    c.s2 = c.s1 + M;
    c.cnt = c.s1 + 2 * M;
    c.default_count = calloc((size_t)d->n_loans + 1, sizeof(uint64_t));
    c.count_by_period = calloc((size_t)L.n_periods * (size_t)(d->n_loans + 1), sizeof(uint64_t));
    c.qbuf = calloc((size_t)EVENTS * (size_t)n_trackers, sizeof(double));
    batch_measure_ctx m = {&L, base, base0, d->pool_balance, n_trackers, false};
    batch_measures(&m, &b, EVENTS, &c);
    int checked_nan = 0;
    for (int j = 0; j < M; j++) {
        if (j >= L.loan0 && j < L.period0)
            continue;
        double s1 = 0.0, s2 = 0.0, cnt = 0.0;
        for (int e = 0; e < EVENTS; e++) {
            double x = rec[(size_t)e * (size_t)M + j];
            if (isnan(x)) {
                checked_nan++;
                continue;
            }
            x -= isnan(base[j]) ? 0.0 : base[j];
            s1 += x;
            s2 += x * x;
            cnt += 1.0;
        }
        cr_assert(memcmp(&s1, &c.s1[j], sizeof s1) == 0, "entry %d: %a vs %a", j, c.s1[j], s1);
        cr_assert(memcmp(&s2, &c.s2[j], sizeof s2) == 0, "entry %d: %a vs %a", j, c.s2[j], s2);
        cr_assert(memcmp(&cnt, &c.cnt[j], sizeof cnt) == 0, "entry %d: %a vs %a", j, c.cnt[j], cnt);
    }
    cr_assert_gt(checked_nan, EVENTS, "NaN entries: %d", checked_nan);
    free(c.s1);
    free(c.default_count);
    free(c.count_by_period);
    free(c.qbuf);
    free(event_first);
    free(rec);
    free(base);
    free(base0);
    ipabs_mc_path_free(w);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}
