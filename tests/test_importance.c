/*
 * test_importance.c — importance sampling (issue 12, item 6): the weighted
 * moments against a direct two-pass computation, the likelihood ratio
 * against the normal densities, the automatic shift against an
 * independent closed form of its rule, the batch engine's shifted draws
 * and weights against replay bit for bit, whole runs bit-identical across
 * threads and SIMD widths, and the estimates against the exact module on
 * validation scenarios whose senior loses with probability about 1e-4,
 * 1e-5 and 1e-6 (within 4 standard errors), and against plain Monte Carlo
 * on the same deal (within the combined standard error).
 */
#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

#include "batch.h"
#include "cli_util.h"
#include "ipabs/exact.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/validate.h"
#include "ipabs/wquantiles.h"

static void setup(void)
{
    ipabs_init();
}

static ipabs_deal *load(const char *rel, bool importance)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s", IPABS_SOURCE_DIR, rel);
    const char *sets[] = {"model.importance=auto"};
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(path, sets, importance ? 1 : 0, &d, &errors), IPABS_OK,
                 "%s", rel);
    ipabs_errors_clear(&errors);
    return d;
}

static ipabs_mc_result *run(const ipabs_deal *d, long long paths, uint64_t seed,
                            int simd, int threads)
{
    ipabs_mc_options opt = {paths, seed, threads, NULL, NULL, NULL, simd};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_OK, "%s", err.message);
    return r;
}

/* ---- weighted moments ------------------------------------------------------ */

/* Merging parts in any grouping gives the two-pass values. */
Test(importance, weighted_moments_merge_equals_two_pass)
{
    enum { N = 11 };
    const double x[N] = {3.7, -1.25, 0.0, 14.2, 2.2, 2.2, -7.9, 0.31, 5.55, 1e3, -0.04};
    const double w[N] = {0.3, 2.7, 1.1, 0.013, 4.4, 0.9, 1.0, 0.25, 7.3, 1e-3, 0.61};
    double sw = 0, swx = 0, sw2 = 0;
    for (int i = 0; i < N; i++)
        sw += w[i], swx += w[i] * x[i], sw2 += w[i] * w[i];
    double mean = swx / sw, q = 0, t = 0;
    for (int i = 0; i < N; i++) {
        q += w[i] * w[i] * (x[i] - mean) * (x[i] - mean);
        t += w[i] * w[i] * (x[i] - mean);
    }
    /* Parts of 4, 1 and 6 paths, each about its own mean. */
    const int cut[4] = {0, 4, 5, N};
    ipabs_wmoments all = {0};
    for (int k = 0; k < 3; k++) {
        double pw = 0, pwx = 0, pw2 = 0;
        for (int i = cut[k]; i < cut[k + 1]; i++)
            pw += w[i], pwx += w[i] * x[i], pw2 += w[i] * w[i];
        double pm = pwx / pw, pq = 0, pt = 0;
        for (int i = cut[k]; i < cut[k + 1]; i++) {
            pq += w[i] * w[i] * (x[i] - pm) * (x[i] - pm);
            pt += w[i] * w[i] * (x[i] - pm);
        }
        ipabs_wmoments part = {cut[k + 1] - cut[k], pw, pm, pw2, pt, pq};
        ipabs_wmoments_merge(&all, &part);
    }
    cr_expect_eq(all.n, N);
    cr_expect_float_eq(all.w, sw, 1e-13 * sw);
    cr_expect_float_eq(all.mean, mean, 1e-12 * fabs(mean));
    cr_expect_float_eq(all.q, q, 1e-12 * q);
    cr_expect_float_eq(all.t, t, 1e-9 * fabs(q));
    double se = sqrt(q) / sw * sqrt((double)N / (N - 1));
    cr_expect_float_eq(ipabs_wmoments_se(&all), se, 1e-12 * se);
}

/* With every weight 1 the error is the plain one. */
Test(importance, unit_weights_give_the_plain_error)
{
    const double x[6] = {0.5, 1.75, -2.0, 9.0, 0.0, 3.3};
    ipabs_moments m = {0};
    ipabs_wmoments wm = {0};
    for (int i = 0; i < 6; i++) {
        ipabs_moments_add(&m, x[i]);
        ipabs_wmoments one = {1, 1.0, x[i], 1.0, 0.0, 0.0};
        ipabs_wmoments_merge(&wm, &one);
    }
    cr_expect_float_eq(wm.mean, m.mean, 1e-14);
    cr_expect_float_eq(ipabs_wmoments_se(&wm), ipabs_moments_se(&m), 1e-14);
}

/* ---- the likelihood ratio and the shift ------------------------------------- */

/* w = prod phi(x_j) / phi(x_j - mu_j) for the shifted draws x_j. */
Test(importance, weight_is_the_ratio_of_normal_densities, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml", true);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    cr_assert(plan->importance);
    cr_assert_lt(plan->is_mu[0], 0.0, "the reference deal's factor is shifted down");
    double dot = 0.0, ratio = 1.0;
    for (int j = 0; j < plan->is_n; j++) {
        double x = 0.37 * j - 1.913; /* any draws */
        dot += plan->is_mu[j] * x;
        ratio *= gsl_ran_ugaussian_pdf(x) / gsl_ran_ugaussian_pdf(x - plan->is_mu[j]);
    }
    double w = ipabs_importance_weight(plan, dot);
    cr_expect_float_eq(w, ratio, 1e-12 * ratio, "weight %.17g, densities %.17g", w, ratio);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

/* The rule for a homogeneous pool and a guarantor that cannot fail: the
 * shift minimises z^2 / 2 + n KL(y || p(z)), the Chernoff exponent of a
 * binomial in closed form (y the fraction of loans that must default,
 * p(z) the conditional PD), found here on a fine grid. */
Test(importance, shift_of_a_homogeneous_pool_is_the_binomial_chernoff_mode, .init = setup)
{
    ipabs_deal *d = load("validation/rare-senior-1e5.yaml", true);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    cr_assert(!plan->guarantor_can_default);
    int n = d->n_loans, T1 = plan->legal_final + 1;
    double loss = ipabs_static_loss(&d->loans[0]);
    double y = (d->pool_balance - d->tranches[0].balance) / (n * loss);
    double k = plan->threshold[plan->term[0]], a = plan->a[0];
    (void)T1;
    double best = 0.0, best_cost = INFINITY;
    for (double z = 0.0; z >= -8.0; z -= 1e-4) {
        double p = gsl_cdf_ugaussian_P((k - a * z) / sqrt(1.0 - a * a));
        double kl = p >= y ? 0.0 : y * log(y / p) + (1.0 - y) * log((1.0 - y) / (1.0 - p));
        double c = 0.5 * z * z + n * kl;
        if (c < best_cost)
            best_cost = c, best = z;
    }
    cr_expect(fabs(plan->is_mu[0] - best) < 1e-3, "shift %.6f, closed form %.6f",
              plan->is_mu[0], best);
    for (int j = 1; j < plan->is_n; j++)
        cr_expect_eq(plan->is_mu[j], 0.0, "normal %d is not shifted", j);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

/* ---- the engine against replay, threads and widths ------------------------- */

/* Every path of two batches: the batch's shifted draws give the event
 * flags replay gives, and the same weight bit for bit. */
static void batch_weights_equal_replay(const char *scenario)
{
    ipabs_deal *d = load(scenario, true);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    cr_assert(plan->is_mu[0] != 0.0, "%s: a shift to test", scenario);
    batch_ws *b = batch_ws_alloc(d, plan, batch_simd_widest());
    ipabs_realisation *rs = ipabs_realisation_alloc(d);
    ipabs_path_draws draws;
    cr_assert_eq(ipabs_path_draws_init(plan, &draws), IPABS_OK);
    double z[64];
    uint64_t seed = 4242;
    int events = 0;
    for (uint64_t first = 0; first < 2 * (uint64_t)b->cap; first += (uint64_t)b->cap) {
        batch_draw(plan, seed, first, b->cap, b);
        batch_screen(plan, b->cap, b);
        for (int p = 0; p < b->cap; p++) {
            ipabs_model_sample(d, plan, seed, first + (uint64_t)p, z, rs, &draws);
            bool event = rs->n_defaults > 0 || rs->guarantor_default_period > 0;
            cr_assert_eq(b->n_default[p] + b->g_default[p] > 0, event, "%s path %d: event flag", scenario, p);
            cr_assert(memcmp(&b->weight[p], &draws.weight, sizeof(double)) == 0,
                      "%s path %d: weight %.17g, replay %.17g", scenario, p, b->weight[p],
                      draws.weight);
            events += event;
        }
    }
    cr_assert(events > 0);
    ipabs_path_draws_release(&draws);
    ipabs_realisation_free(rs);
    batch_ws_free(b);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

Test(importance, batch_weights_equal_replay_gaussian_with_guarantor, .init = setup)
{
    batch_weights_equal_replay("shenyang-ip-abs.yaml");
}

Test(importance, batch_weights_equal_replay_student_t, .init = setup)
{
    batch_weights_equal_replay("validation/student-t-4.yaml");
}

Test(importance, batch_weights_equal_replay_sectors, .init = setup)
{
    batch_weights_equal_replay("validation/two-sectors.yaml");
}

/* The scalar kernel on one thread and every other width on two threads
 * give the same weighted results, bit for bit. */
static void runs_agree(const char *scenario)
{
    static const int widths[] = {BATCH_SIMD_BASE, BATCH_SIMD_AVX2, BATCH_SIMD_AVX512};
    ipabs_deal *d = load(scenario, true);
    long long paths = 3 * IPABS_MC_CHUNK + 777;
    ipabs_mc_result *ref = run(d, paths, 31, BATCH_SIMD_SCALAR, 1);
    cr_assert(ref->weighted);
    int M = ref->layout.count;
    size_t cells = batch_cells(d->n_loans, d->legal_final);
    for (int k = 0; k < 3; k++) {
        if (!batch_simd_supported(widths[k]))
            continue;
        ipabs_mc_result *r = run(d, paths, 31, widths[k], 2);
        cr_assert(memcmp(r->wmoments, ref->wmoments, (size_t)M * sizeof *r->wmoments) == 0,
                  "%s width %d: weighted moments differ", scenario, widths[k]);
        cr_assert(memcmp(r->moments, ref->moments, (size_t)M * sizeof *r->moments) == 0);
        cr_assert(memcmp(r->wcells, ref->wcells, 2 * cells * sizeof(double)) == 0,
                  "%s width %d: weighted laws differ", scenario, widths[k]);
        cr_assert(memcmp(&r->weight_sum, &ref->weight_sum, sizeof(double)) == 0);
        for (int j = 0; j < r->n_trackers; j++)
            cr_assert(memcmp(r->wq[j].cells, ref->wq[j].cells,
                             IPABS_QCELLS * sizeof *r->wq[j].cells) == 0,
                      "%s width %d: weighted tracker %d differs", scenario, widths[k], j);
        ipabs_mc_result_free(r);
    }
    ipabs_mc_result_free(ref);
    ipabs_deal_free(d);
}

Test(importance, runs_agree_across_threads_and_widths, .init = setup)
{
    runs_agree("shenyang-ip-abs.yaml");
    runs_agree("validation/student-t-4.yaml");
    runs_agree("validation/two-sectors.yaml");
}

/* Without importance sampling nothing is weighted (the plain engine). */
Test(importance, off_is_the_plain_engine, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml", false);
    ipabs_mc_result *r = run(d, 5000, 7, 0, 1);
    cr_expect(!r->weighted);
    cr_expect_null(r->wmoments);
    cr_expect_eq(ipabs_mc_variance_reduction(r, r->layout.tranche0 + IPABS_TM_ANY_LOSS), 1.0);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

/* ---- against exact and plain Monte Carlo ----------------------------------- */

#define IS_PATHS 400000

/* Every measure --check-exact compares (means and probabilities with the
 * weighted standard errors), within 4 of them; the senior's static P(loss)
 * is among them and must have been resolved (a positive estimate). */
static void agrees_with_exact(const char *scenario, double p_lo, double p_hi)
{
    ipabs_deal *d = load(scenario, true);
    ipabs_mc_result *mc = run(d, IS_PATHS, d->simulation.seed, 0, 2);
    ipabs_exact_result *ex = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_exact_compute(d, NULL, &ex, &err), IPABS_OK, "%s", err.message);
    double p = ex->tranche_prob_loss[0];
    cr_assert(p > p_lo && p < p_hi, "%s: exact senior P(loss) %.3g", scenario, p);
    int n = ipabs_compare_exact(d, mc, ex, NULL, 0);
    ipabs_comparison *cmp = calloc((size_t)n, sizeof *cmp);
    ipabs_compare_exact(d, mc, ex, cmp, n);
    bool seen = false;
    for (int i = 0; i < n; i++) {
        cr_expect(fabs(cmp[i].z) <= 4.0, "%s: %s/%s IS %.10g exact %.10g se %.3g z %.2f",
                  scenario, cmp[i].subject, cmp[i].measure, cmp[i].mc, cmp[i].exact,
                  cmp[i].std_error, cmp[i].z);
        if (strcmp(cmp[i].measure, "static_prob_loss") == 0 &&
            strcmp(cmp[i].subject, d->tranches[0].name) == 0) {
            seen = true;
            cr_expect_gt(cmp[i].mc, 0.0, "%s: the rare loss was sampled", scenario);
            cr_expect_lt(cmp[i].std_error, 0.5 * p, "%s: relative error below 50%%", scenario);
        }
    }
    cr_expect(seen);
    free(cmp);
    ipabs_exact_free(ex);
    ipabs_mc_result_free(mc);
    ipabs_deal_free(d);
}

Test(importance, senior_loss_near_1e4_agrees_with_exact, .init = setup, .timeout = 600)
{
    agrees_with_exact("validation/rare-senior-1e4.yaml", 3e-5, 3e-4);
}

Test(importance, senior_loss_near_1e5_agrees_with_exact, .init = setup, .timeout = 600)
{
    agrees_with_exact("validation/rare-senior-1e5.yaml", 3e-6, 3e-5);
}

Test(importance, senior_loss_near_1e6_agrees_with_exact, .init = setup, .timeout = 600)
{
    agrees_with_exact("validation/rare-senior-1e6.yaml", 3e-7, 3e-6);
}

/* Student-t mixing, sector factors and a loaded guarantor (shifted with
 * the factor): still every compared measure within 4 standard errors. */
Test(importance, other_models_agree_with_exact, .init = setup, .timeout = 900)
{
    agrees_with_exact("validation/student-t-4.yaml", 0.0, 1.0);
    agrees_with_exact("validation/two-sectors.yaml", 0.0, 1.0);
    agrees_with_exact("validation/guarantor-load-60.yaml", 0.0, 1.0);
}

/* The same deal by plain Monte Carlo (where it can resolve the loss): the
 * two estimates within 4 combined standard errors, on the senior's
 * static P(loss) of the 1e-4 scenario and the reference deal's P(loss). */
static void agrees_with_plain(const char *scenario, const char *measure,
                              long long plain_paths, long long is_paths)
{
    ipabs_deal *dp = load(scenario, false), *di = load(scenario, true);
    ipabs_mc_result *rp = run(dp, plain_paths, 11, 0, 2), *ri = run(di, is_paths, 12, 0, 2);
    double vp, sp, vi, si;
    const char *senior = dp->tranches[0].name;
    cr_assert(ipabs_mc_lookup(dp, rp, senior, measure, &vp, &sp));
    cr_assert(ipabs_mc_lookup(di, ri, senior, measure, &vi, &si));
    cr_assert_gt(vp, 0.0, "plain Monte Carlo saw the loss");
    double z = (vi - vp) / sqrt(sp * sp + si * si);
    cr_expect(fabs(z) <= 4.0, "%s %s: IS %.6g +- %.3g, plain %.6g +- %.3g, z %.2f", scenario,
              measure, vi, si, vp, sp, z);
    ipabs_mc_result_free(rp);
    ipabs_mc_result_free(ri);
    ipabs_deal_free(dp);
    ipabs_deal_free(di);
}

Test(importance, agrees_with_plain_monte_carlo, .init = setup, .timeout = 600)
{
    agrees_with_plain("validation/rare-senior-1e4.yaml", "static_prob_loss", 1000000, 200000);
    agrees_with_plain("shenyang-ip-abs.yaml", "prob_loss", 400000, 100000);
}

/* The weighted expected shortfall (and the 99.9% loss quantile, whose
 * error is its interval's) of the reference deal's senior against plain
 * Monte Carlo on the same deal. */
Test(importance, weighted_tail_measures_agree_with_plain_monte_carlo, .init = setup,
     .timeout = 600)
{
    agrees_with_plain("shenyang-ip-abs.yaml", "expected_shortfall_99", 400000, 100000);
    agrees_with_plain("shenyang-ip-abs.yaml", "expected_shortfall_999", 400000, 100000);
    agrees_with_plain("shenyang-ip-abs.yaml", "loss_q999", 400000, 100000);
}

/* The weighted standard error holds: over 24 independent seeds the spread
 * of the senior's static P(loss) matches the root mean square of the
 * reported errors, within 4 times the sampling error of a standard
 * deviation from 24 values (1 / sqrt(2 x 23) relative). */
Test(importance, reported_error_matches_the_spread_over_seeds, .init = setup, .timeout = 900)
{
    enum { SEEDS = 24 };
    ipabs_deal *d = load("validation/rare-senior-1e4.yaml", true);
    double est[SEEDS], ms = 0.0, mean = 0.0;
    for (int k = 0; k < SEEDS; k++) {
        ipabs_mc_result *r = run(d, 50000, (uint64_t)k + 1, 0, 2);
        double se;
        cr_assert(ipabs_mc_lookup(d, r, d->tranches[0].name, "static_prob_loss", &est[k], &se));
        ms += se * se / SEEDS;
        mean += est[k] / SEEDS;
        ipabs_mc_result_free(r);
    }
    double var = 0.0;
    for (int k = 0; k < SEEDS; k++)
        var += (est[k] - mean) * (est[k] - mean) / (SEEDS - 1);
    double ratio = sqrt(var / ms), tol = 4.0 / sqrt(2.0 * (SEEDS - 1));
    cr_expect(fabs(ratio - 1.0) <= tol, "spread / reported error %.3f, allowed 1 +- %.3f",
              ratio, tol);
    ipabs_deal_free(d);
}

/* ---- the command line ------------------------------------------------------- */

Test(importance, bad_values_are_input_errors_naming_the_option_or_key)
{
    cli_tmp_make();
    cli_result r = cli_run("run", CLI_REFERENCE_YAML, "-o", cli_path("out"), "--importance",
                           "maybe", NULL);
    cr_expect_eq(r.exit_code, 2, "exit %d", r.exit_code);
    cr_expect(strstr(r.err, "--importance expects auto or off (got 'maybe')") != NULL, "%s",
              r.err);
    cli_result_free(&r);
    r = cli_run("check", CLI_REFERENCE_YAML, "--set", "model.importance=sometimes", NULL);
    cr_expect_eq(r.exit_code, 2, "exit %d", r.exit_code);
    cr_expect(strstr(r.err, "model.importance") != NULL && strstr(r.err, "auto") != NULL,
              "expected the key and the allowed words: %s", r.err);
    cli_result_free(&r);
    cli_tmp_remove();
}

/* run --importance auto records it and its shift in run.csv; replay of a
 * path with the same option reports the weight the engine gives it. */
Test(importance, run_csv_and_replay_report_the_shift_and_the_weight, .init = setup)
{
    cli_tmp_make();
    const char *out = cli_path("run"), *rep = cli_path("replay");
    cli_result r = cli_run("run", CLI_REFERENCE_YAML, "-o", out, "--paths", "20000",
                           "--importance", "auto", "--quiet", NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cli_result_free(&r);
    char *run_csv = cli_read_csv(cli_path("run/run.csv"), NULL);
    cr_expect(strstr(run_csv, ",importance,importance_shift_factor,importance_shift_guarantor,"
                              "variance_reduction_senior_prob_loss,"
                              "variance_reduction_senior_static_prob_loss,"
                              "importance_guarantor_mixture") != NULL,
              "%s", run_csv);
    /* The mixture's share is the last column but the kernel's (simd). */
    char *row_end = strrchr(run_csv, '\n');
    cr_assert_not_null(row_end);
    *row_end = '\0';
    char *simd = strrchr(run_csv, ',');
    cr_assert_not_null(simd);
    *simd = '\0';
    const char *mixture = strrchr(run_csv, ',');
    cr_expect(strstr(run_csv, ",auto,-0.86898") != NULL && mixture != NULL &&
                  strcmp(mixture, ",0.5") == 0,
              "the factor's shift and the guarantor's mixture: %s", run_csv);
    cr_expect(strstr(run_csv, "model.importance=auto") != NULL, "the override is recorded");
    cr_expect(strstr(run_csv, ",auto,-0.86898") != NULL, "the shift: %s", run_csv);
    free(run_csv);
    r = cli_run("replay", CLI_REFERENCE_YAML, "-o", rep, "--path", "17", "--importance",
                "auto", NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cli_result_free(&r);
    char *real = cli_read_csv(cli_path("replay/realisation.csv"), NULL);
    const char *last = strrchr(real, ',');
    cr_assert_not_null(last);
    double w = strtod(last + 1, NULL);
    /* The same path in-process. */
    ipabs_deal *d = load("shenyang-ip-abs.yaml", true);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    ipabs_realisation *rs = ipabs_realisation_alloc(d);
    ipabs_path_draws draws;
    cr_assert_eq(ipabs_path_draws_init(plan, &draws), IPABS_OK);
    double z[8];
    ipabs_model_sample(d, plan, d->simulation.seed, 17, z, rs, &draws);
    cr_expect(w == draws.weight && w != 1.0, "replay's weight %.17g, the engine's %.17g", w,
              draws.weight);
    ipabs_path_draws_release(&draws);
    ipabs_realisation_free(rs);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
    free(real);
    cli_tmp_remove();
}

/* The weighted expected shortfall's error holds on whole runs: over 24
 * independent seeds the spread of the estimate matches the root mean
 * square of the reported errors within 4 times the sampling error of a
 * standard deviation from 24 values (as above): the pool's static loss
 * ES95 and ES99.9 of rare-senior-1e4, the senior's ES99 of the reference
 * deal.  (The pool's ES99 there is left out: its 99% quantile lies two
 * errors from an atom's edge, F(13.65M) = 0.9885, so the estimate is the
 * lesser of two nearly tied candidates and varies less than the error of
 * either; over 48 seeds the spread is 0.69 of the reported error, which
 * is conservative, docs/measures.md.) */
static void es_spread(const char *scenario, const char *subject, const char *measure,
                      long long paths)
{
    enum { SEEDS = 24 };
    ipabs_deal *d = load(scenario, true);
    double est[SEEDS], ms = 0.0, mean = 0.0;
    const char *s = subject != NULL ? subject : d->tranches[0].name;
    for (int k = 0; k < SEEDS; k++) {
        ipabs_mc_result *r = run(d, paths, 1000 + (uint64_t)k, 0, 2);
        double se;
        cr_assert(ipabs_mc_lookup(d, r, s, measure, &est[k], &se));
        cr_assert(se > 0.0, "%s %s: an error", scenario, measure);
        ms += se * se / SEEDS;
        mean += est[k] / SEEDS;
        ipabs_mc_result_free(r);
    }
    double var = 0.0;
    for (int k = 0; k < SEEDS; k++)
        var += (est[k] - mean) * (est[k] - mean) / (SEEDS - 1);
    double ratio = sqrt(var / ms), tol = 4.0 / sqrt(2.0 * (SEEDS - 1));
    cr_log_info("%s %s %s: spread / reported error %.3f", scenario, s, measure, ratio);
    cr_expect(fabs(ratio - 1.0) <= tol, "%s %s: spread / reported error %.3f, allowed 1 +- %.3f",
              scenario, measure, ratio, tol);
    ipabs_deal_free(d);
}

Test(importance, weighted_es_error_matches_the_spread_over_seeds, .init = setup,
     .timeout = 1200)
{
    es_spread("validation/rare-senior-1e4.yaml", "pool", "expected_shortfall_95", 50000);
    es_spread("validation/rare-senior-1e4.yaml", "pool", "expected_shortfall_999", 50000);
    es_spread("shenyang-ip-abs.yaml", NULL, "expected_shortfall_99", 20000);
}

/* The guarantor's defensive mixture (docs/measures.md): the draws it maps
 * N(0,1) quantiles to, weighted by the factors it returns, integrate to
 * the model's own law: on a midpoint grid of N quantiles u_i = (i + 1/2) /
 * N, the mapped x_i are quantiles of the mixture q, so mean(g) = 1,
 * mean(g 1{x <= b}) = Phi(b), mean(g x) = 0 and mean(g x^2) = 1 up to the
 * grid's error (a few times max g / N), with b = (k_G - g_a z0) / g_c
 * computed here from the plan; and the share of x below b is the
 * mixture's alpha + (1 - alpha) Phi(b). */
Test(importance, guarantor_mixture_weights_integrate_to_the_model_law, .init = setup)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml", true);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    cr_assert_eq(plan->is_alpha, 0.5, "the guarantor's failure by the mixture");
    cr_assert_eq(plan->is_mu[plan->is_n - 1], 0.0, "its normal is not shifted then");
    const double z0s[] = {-2.7, -0.869, 0.0, 1.3};
    enum { N = 400000 };
    for (size_t k = 0; k < sizeof z0s / sizeof z0s[0]; k++) {
        double b = (plan->g_threshold[plan->legal_final] - plan->g_a * z0s[k]) / plan->g_c;
        double pb = gsl_cdf_ugaussian_P(b);
        double s0 = 0, s1 = 0, sx = 0, sxx = 0, below = 0, gmax = 0;
        for (int i = 0; i < N; i++) {
            double e = gsl_cdf_ugaussian_Pinv((i + 0.5) / N);
            double g = ipabs_importance_guarantor(plan, z0s[k], 1.0, &e);
            s0 += g / N;
            s1 += (e <= b ? g : 0.0) / N;
            sx += g * e / N;
            sxx += g * e * e / N;
            below += (e <= b) / (double)N;
            gmax = fmax(gmax, g);
        }
        double tol = 4.0 * gmax / N;
        cr_expect(fabs(s0 - 1.0) <= tol, "z0 %g: mean weight %.9f", z0s[k], s0);
        cr_expect(fabs(s1 - pb) <= tol, "z0 %g: failure %.9g, Phi(b) %.9g", z0s[k], s1, pb);
        cr_expect(fabs(sx) <= 10.0 * tol, "z0 %g: mean %.3g", z0s[k], sx);
        cr_expect(fabs(sxx - 1.0) <= 50.0 * tol, "z0 %g: second moment %.9f", z0s[k], sxx);
        cr_expect(fabs(below - (0.5 + 0.5 * pb)) <= 2.0 / N, "z0 %g: share below b %.7f",
                  z0s[k], below);
    }
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

/* The design's target on the reference deal (issue 12, item 6): the
 * senior's P(loss) to a 5% relative error in at most 1/20 of the paths
 * plain Monte Carlo needs, i.e. a variance reduction of at least 20.
 * Measured at 400,000 paths it is 22-24 (docs/measures.md); a fixed seed
 * and a floor of 15 keep the former design (3-4) and anything like it
 * out without asserting the noisy estimate's exact value. */
Test(importance, reference_deal_variance_reduction_meets_the_design, .init = setup,
     .timeout = 600)
{
    ipabs_deal *d = load("shenyang-ip-abs.yaml", true);
    ipabs_mc_result *r = run(d, 400000, 3, 0, 2);
    double vrf = ipabs_mc_variance_reduction(r, r->layout.tranche0 + IPABS_TM_ANY_LOSS);
    cr_log_info("reference deal: variance reduction %.2f", vrf);
    cr_expect_geq(vrf, 15.0, "variance reduction %.2f", vrf);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}
