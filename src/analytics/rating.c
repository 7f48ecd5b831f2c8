/*
 * rating.c — target default rates, the implied rating of the senior class
 * and its Monte Carlo view (see ipabs/rating.h and docs/rating.md).
 *
 * Sections: the built-in grade table; grade lookups; the tenor; the TDR;
 * the stand-alone deal; combining breakeven and Monte Carlo; the run;
 * output.
 */
#include "ipabs/rating.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/csvout.h"

/* ---- the built-in grade table ----------------------------------------------- */

/* Target default probabilities by tenor (1..10 years), an ASSUMPTION built
 * from the corporate-loan quantile-method figures of MARKET-NOTES.md (AAA
 * 0.02%, AA 0.11%, A 0.53%, A- 0.82%), read as 1-year probabilities:
 * notches between them interpolated log-linearly, BBB+..BBB- extrapolated
 * with the A -> A- notch ratio 0.82 / 0.53, tenor n years = 1 - (1 - p1)^n
 * (constant annual hazard), rounded to 6 decimals.  docs/rating.md shows
 * the arithmetic; scenarios/rating-grades.yaml holds the same numbers. */
enum { DEFAULT_GRADES = 10, DEFAULT_TENORS = 10 };

static const char *const DEFAULT_NAMES[DEFAULT_GRADES] = {
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-"};

static const double DEFAULT_PROB[DEFAULT_GRADES * DEFAULT_TENORS] = {
    /* AAA  */ 0.000200, 0.000400, 0.000600, 0.000800, 0.001000,
               0.001199, 0.001399, 0.001599, 0.001799, 0.001998,
    /* AA+  */ 0.000469, 0.000938, 0.001406, 0.001875, 0.002343,
               0.002811, 0.003279, 0.003746, 0.004213, 0.004681,
    /* AA   */ 0.001100, 0.002199, 0.003296, 0.004393, 0.005488,
               0.006582, 0.007675, 0.008766, 0.009857, 0.010946,
    /* AA-  */ 0.001858, 0.003712, 0.005563, 0.007411, 0.009255,
               0.011096, 0.012933, 0.014767, 0.016597, 0.018424,
    /* A+   */ 0.003138, 0.006266, 0.009384, 0.012493, 0.015592,
               0.018681, 0.021760, 0.024830, 0.027890, 0.030940,
    /* A    */ 0.005300, 0.010572, 0.015816, 0.021032, 0.026221,
               0.031382, 0.036515, 0.041622, 0.046701, 0.051754,
    /* A-   */ 0.008200, 0.016333, 0.024399, 0.032399, 0.040333,
               0.048202, 0.056007, 0.063748, 0.071425, 0.079039,
    /* BBB+ */ 0.012687, 0.025213, 0.037580, 0.049790, 0.061845,
               0.073747, 0.085498, 0.097100, 0.108555, 0.119865,
    /* BBB  */ 0.019629, 0.038872, 0.057738, 0.076233, 0.094365,
               0.112142, 0.129569, 0.146654, 0.163404, 0.179826,
    /* BBB- */ 0.030369, 0.059815, 0.088368, 0.116053, 0.142897,
               0.168926, 0.194165, 0.218637, 0.242366, 0.265375,
};

ipabs_grade_table ipabs_rating_default_grades(void)
{
    return (ipabs_grade_table){DEFAULT_GRADES, DEFAULT_NAMES, DEFAULT_TENORS,
                               DEFAULT_PROB};
}

ipabs_grade_table ipabs_rating_grades(const ipabs_deal *deal)
{
    const ipabs_rating_terms *r = &deal->rating;
    if (r->n_grades <= 0)
        return ipabs_rating_default_grades();
    return (ipabs_grade_table){r->n_grades, (const char *const *)r->grade_names,
                               r->n_tenors, r->grade_prob};
}

/* ---- grade lookups ------------------------------------------------------------ */

double ipabs_grade_target_prob(const ipabs_grade_table *t, int g,
                               double tenor_years)
{
    const double *row = t->prob + (size_t)g * (size_t)t->n_tenors;
    if (!(tenor_years > 0.0))
        return 0.0;
    if (tenor_years >= t->n_tenors)
        return row[t->n_tenors - 1];
    int y = (int)floor(tenor_years);
    double lo = y == 0 ? 0.0 : row[y - 1];
    return lo + (tenor_years - y) * (row[y] - lo);
}

void ipabs_rating_grade_text(const ipabs_grade_table *t, int g, char *buf,
                             size_t cap)
{
    if (g >= 0 && g < t->n_grades)
        snprintf(buf, cap, "%s", t->names[g]);
    else
        snprintf(buf, cap, "below %s", t->n_grades > 0 ? t->names[t->n_grades - 1] : "?");
}

/* ---- the tenor ------------------------------------------------------------------ */

static double senior_principal(const ipabs_deal *deal, const ipabs_period_flows *fl)
{
    double p = 0.0;
    for (int k = 0; k < deal->n_senior; k++)
        p += fl->principal_paid[k];
    return p;
}

/* WAL of the senior class on the no-default path. */
static ipabs_status senior_wal(const ipabs_deal *deal, double *years, ipabs_error *err)
{
    ipabs_period_flows fl;
    ipabs_realisation *real = ipabs_realisation_alloc(deal);
    ipabs_state *st = ipabs_state_alloc(deal);
    ipabs_status s = IPABS_OK;
    if (real == NULL || st == NULL || ipabs_flows_init(deal, &fl) != IPABS_OK) {
        ipabs_realisation_free(real);
        ipabs_state_free(st);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for the no-default run");
    }
    ipabs_realisation_index(deal, real);
    double weighted = 0.0, total = 0.0;
    while (s == IPABS_OK && !st->ended && st->period < deal->legal_final) {
        s = ipabs_waterfall_step(deal, real, st, &fl, NULL, err);
        double p = senior_principal(deal, &fl);
        weighted += p * fl.period / deal->frequency;
        total += p;
    }
    *years = total > 0.0 ? weighted / total : NAN;
    ipabs_flows_release(&fl);
    ipabs_state_free(st);
    ipabs_realisation_free(real);
    return s;
}

static double senior_legal_final_years(const ipabs_deal *deal)
{
    int last = 0;
    for (int k = 0; k < deal->n_senior; k++)
        if (deal->tranches[k].legal_final > last)
            last = deal->tranches[k].legal_final;
    return (double)last / deal->frequency;
}

ipabs_status ipabs_rating_tenor_years(const ipabs_deal *deal, double *years,
                                      ipabs_error *err)
{
    *years = senior_legal_final_years(deal);
    if (deal->rating.tenor == IPABS_TENOR_LEGAL_FINAL)
        return IPABS_OK;
    double wal = NAN;
    ipabs_status s = senior_wal(deal, &wal, err);
    if (s == IPABS_OK && !isnan(wal))
        *years = wal; /* no senior principal at all: the legal final */
    return s;
}

/* ---- the TDR ---------------------------------------------------------------------- */

double ipabs_rating_tdr(const ipabs_deal *deal, const ipabs_mc_result *r,
                        double target_prob, double *se)
{
    int idx = deal->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_CDR;
    double p = fmin(1.0, fmax(0.0, 1.0 - target_prob));
    ipabs_quantile_est e = ipabs_mc_quantile(r, idx, p); /* weighted under importance sampling */
    if (se != NULL)
        *se = e.se;
    return e.value;
}

/* ---- the stand-alone deal ------------------------------------------------------- */

ipabs_status ipabs_rating_standalone_deal(const ipabs_deal *deal,
                                          ipabs_deal **out, ipabs_error *err)
{
    ipabs_deal *d = NULL;
    ipabs_status s = ipabs_deal_copy(deal, NULL, 0, &d, err);
    if (s != IPABS_OK)
        return s;
    /* As if there were no guarantor: it pays nothing, and its default
     * (still drawn, so the random streams are those of the deal as given)
     * is no acceleration event. */
    d->guarantor.capacity = 0.0;
    d->guarantor.topup = false;
    d->triggers.on_guarantor_default = false;
    s = ipabs_deal_finalize(d, err);
    if (s != IPABS_OK) {
        ipabs_deal_free(d);
        d = NULL;
    }
    *out = d;
    return s;
}

/* ---- combining breakeven and Monte Carlo ---------------------------------------- */

static void fill_rows(const ipabs_deal *deal, const ipabs_breakeven_result *be,
                      const ipabs_mc_result *mc, ipabs_rating_result *r)
{
    const ipabs_grade_table *t = &r->grades;
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++) {
        r->implied[m] = -1;
        for (int g = 0; g < t->n_grades; g++) {
            ipabs_rating_row *x = &r->rows[m * t->n_grades + g];
            x->grade = g;
            x->support = (ipabs_support)m;
            x->target_prob = ipabs_grade_target_prob(t, g, r->tenor_years);
            x->tdr = ipabs_rating_tdr(deal, mc, x->target_prob, &x->tdr_se);
            x->min_bdr = be->min_bdr[m];
            x->margin = x->min_bdr - x->tdr;
            x->passes = x->margin >= 0.0;
            if (x->passes && r->implied[m] < 0)
                r->implied[m] = g;
        }
    }
}

static int grade_of_prob(const ipabs_grade_table *t, double tenor, double prob)
{
    for (int g = 0; g < t->n_grades; g++)
        if (ipabs_grade_target_prob(t, g, tenor) >= prob)
            return g;
    return -1;
}

static bool fill_views(const ipabs_deal *deal,
                       const ipabs_mc_result *const mc[IPABS_SUPPORT_COUNT_],
                       ipabs_rating_result *r)
{
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++)
        for (int k = 0; k < deal->n_senior; k++) {
            ipabs_rating_view *v = &r->views[m * deal->n_senior + k];
            const char *name = deal->tranches[k].name;
            v->tranche = k;
            v->support = (ipabs_support)m;
            if (!ipabs_mc_lookup(deal, mc[m], name, "prob_loss", &v->prob_loss,
                                 &v->prob_loss_se) ||
                !ipabs_mc_lookup(deal, mc[m], name, "expected_loss_fraction", &v->el_fraction,
                                 &v->el_fraction_se))
                return false;
            v->grade = grade_of_prob(&r->grades, r->tenor_years, v->prob_loss);
        }
    return true;
}

static ipabs_rating_result *result_alloc(const ipabs_deal *deal)
{
    ipabs_rating_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->grades = ipabs_rating_grades(deal);
    r->n_rows = r->grades.n_grades * IPABS_SUPPORT_COUNT_;
    r->n_views = deal->n_senior * IPABS_SUPPORT_COUNT_;
    r->rows = calloc((size_t)r->n_rows, sizeof *r->rows);
    r->views = calloc((size_t)(r->n_views > 0 ? r->n_views : 1), sizeof *r->views);
    if (r->rows == NULL || r->views == NULL) {
        ipabs_rating_free(r);
        return NULL;
    }
    return r;
}

ipabs_status ipabs_rating_compute(const ipabs_deal *deal,
                                  const ipabs_breakeven_result *be,
                                  const ipabs_mc_result *const mc[IPABS_SUPPORT_COUNT_],
                                  ipabs_rating_result **out, ipabs_error *err)
{
    *out = NULL;
    ipabs_rating_result *r = result_alloc(deal);
    if (r == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for the rating table");
    ipabs_status s = ipabs_rating_tenor_years(deal, &r->tenor_years, err);
    if (s == IPABS_OK) {
        r->paths = mc[IPABS_SUPPORT_FULL]->paths;
        r->seed = mc[IPABS_SUPPORT_FULL]->seed;
        fill_rows(deal, be, mc[IPABS_SUPPORT_FULL], r);
        if (!fill_views(deal, mc, r))
            s = ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                                "a senior tranche's Monte Carlo measures are "
                                "missing (a bug in ipabs)");
    }
    if (s != IPABS_OK) {
        ipabs_rating_free(r);
        return s;
    }
    *out = r;
    return IPABS_OK;
}

void ipabs_rating_free(ipabs_rating_result *r)
{
    if (r == NULL)
        return;
    free(r->rows);
    free(r->views);
    free(r);
}

/* ---- the run ------------------------------------------------------------------------ */

/* Both Monte Carlo runs: mc[FULL] the deal as given, mc[NONE] stand-alone. */
static ipabs_status run_both(const ipabs_deal *deal, const ipabs_mc_options *opt,
                             ipabs_mc_result *mc[IPABS_SUPPORT_COUNT_],
                             ipabs_error *err)
{
    ipabs_deal *alone = NULL;
    ipabs_status s = ipabs_mc_run(deal, opt, &mc[IPABS_SUPPORT_FULL], err);
    if (s == IPABS_OK)
        s = ipabs_rating_standalone_deal(deal, &alone, err);
    if (s == IPABS_OK)
        s = ipabs_mc_run(alone, opt, &mc[IPABS_SUPPORT_NONE], err);
    ipabs_deal_free(alone);
    return s;
}

ipabs_status ipabs_rating_run(const ipabs_deal *deal,
                              const ipabs_mc_options *opt,
                              ipabs_breakeven_result **be,
                              ipabs_rating_result **out, ipabs_error *err)
{
    ipabs_mc_result *mc[IPABS_SUPPORT_COUNT_] = {NULL, NULL};
    *be = NULL;
    *out = NULL;
    ipabs_status s = ipabs_breakeven_run(deal, be, err);
    if (s == IPABS_OK)
        s = run_both(deal, opt, mc, err);
    if (s == IPABS_OK) {
        const ipabs_mc_result *const view[IPABS_SUPPORT_COUNT_] = {mc[0], mc[1]};
        s = ipabs_rating_compute(deal, *be, view, out, err);
    }
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++)
        ipabs_mc_result_free(mc[m]);
    if (s != IPABS_OK) {
        ipabs_breakeven_free(*be);
        *be = NULL;
    }
    return s;
}

/* ---- output ------------------------------------------------------------------------- */

static void stress_of_min(const ipabs_breakeven_result *be, int m, char *buf, size_t cap)
{
    if (be->min_row[m] < 0)
        snprintf(buf, cap, "?");
    else
        ipabs_stress_name(&be->rows[be->min_row[m]].stress, buf, cap);
}

static ipabs_status write_rating_table(const ipabs_breakeven_result *be,
                                       const ipabs_rating_result *r,
                                       const char *dir, bool bom, ipabs_error *err)
{
    static const char *const head[] = {
        "grade", "target_default_prob", "tdr", "min_bdr", "margin", "passes",
        "guarantor_support", "tdr_std_error", "tenor_years", "min_bdr_stress", NULL};
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "rating.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, head);
    for (int i = 0; i < r->n_rows; i++) {
        const ipabs_rating_row *x = &r->rows[i];
        char stress[64];
        stress_of_min(be, x->support, stress, sizeof stress);
        ipabs_csv_text(&w, r->grades.names[x->grade]);
        ipabs_csv_num(&w, x->target_prob, -1);
        ipabs_csv_num(&w, x->tdr, -1);
        ipabs_csv_num(&w, x->min_bdr, 6);
        ipabs_csv_num(&w, x->margin, -1);
        ipabs_csv_text(&w, x->passes ? "true" : "false");
        ipabs_csv_text(&w, ipabs_support_name(x->support));
        ipabs_csv_num(&w, x->tdr_se, -1);
        ipabs_csv_num(&w, r->tenor_years, -1);
        ipabs_csv_text(&w, stress);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

/* The implied grade's target probability and TDR (empty when below). */
static void implied_cells(ipabs_csv_out *w, const ipabs_rating_result *r, int m)
{
    int g = r->implied[m];
    if (g < 0) {
        ipabs_csv_empty(w);
        ipabs_csv_empty(w);
        return;
    }
    const ipabs_rating_row *x = &r->rows[m * r->grades.n_grades + g];
    ipabs_csv_num(w, x->target_prob, -1);
    ipabs_csv_num(w, x->tdr, -1);
}

static void summary_row(ipabs_csv_out *w, const ipabs_deal *deal,
                        const ipabs_breakeven_result *be,
                        const ipabs_rating_result *r, const ipabs_rating_view *v)
{
    char grade[64], stress[64], mc_grade[64];
    int m = v->support;
    ipabs_rating_grade_text(&r->grades, r->implied[m], grade, sizeof grade);
    ipabs_rating_grade_text(&r->grades, v->grade, mc_grade, sizeof mc_grade);
    stress_of_min(be, m, stress, sizeof stress);
    ipabs_csv_text(w, deal->tranches[v->tranche].name);
    ipabs_csv_text(w, ipabs_support_name(v->support));
    ipabs_csv_text(w, grade);
    ipabs_csv_num(w, be->min_bdr[m], 6);
    ipabs_csv_text(w, stress);
    ipabs_csv_num(w, r->tenor_years, -1);
    implied_cells(w, r, m);
    ipabs_csv_text(w, m == IPABS_SUPPORT_FULL ? "as_given" : "none");
    ipabs_csv_num(w, v->prob_loss, -1);
    ipabs_csv_num(w, v->prob_loss_se, -1);
    ipabs_csv_num(w, v->el_fraction, -1);
    ipabs_csv_num(w, v->el_fraction_se, -1);
    ipabs_csv_text(w, mc_grade);
    ipabs_csv_int(w, r->paths);
    ipabs_csv_int(w, (long long)r->seed);
    ipabs_csv_end_row(w);
}

static ipabs_status write_summary(const ipabs_deal *deal,
                                  const ipabs_breakeven_result *be,
                                  const ipabs_rating_result *r, const char *dir,
                                  bool bom, ipabs_error *err)
{
    static const char *const head[] = {
        "tranche", "guarantor_support", "implied_rating", "min_bdr", "min_bdr_stress",
        "tenor_years", "target_default_prob", "tdr", "mc_support", "mc_prob_loss",
        "mc_prob_loss_std_error", "mc_expected_loss_fraction", "mc_expected_loss_fraction_std_error",
        "mc_implied_rating", "paths", "seed", NULL};
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "rating_summary.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, head);
    for (int i = 0; i < r->n_views; i++)
        summary_row(&w, deal, be, r, &r->views[i]);
    return ipabs_csv_commit(&w, err);
}

ipabs_status ipabs_rating_write(const ipabs_deal *deal,
                                const ipabs_breakeven_result *be,
                                const ipabs_rating_result *r, const char *dir,
                                bool bom, ipabs_error *err)
{
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s == IPABS_OK)
        s = ipabs_breakeven_write(deal, be, dir, bom, err);
    if (s == IPABS_OK)
        s = write_rating_table(be, r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_summary(deal, be, r, dir, bom, err);
    return s;
}

/* ---- the printed report ---------------------------------------------------------- */

static void print_grade_row(FILE *out, const ipabs_rating_result *r, int g)
{
    const ipabs_rating_row *a = &r->rows[g];
    const ipabs_rating_row *b = &r->rows[r->grades.n_grades + g];
    fprintf(out, "  %-6s %9.4f%% %9.4f%% %8.4f%%  %9.4f%% %-4s  %9.4f%% %-4s\n",
            r->grades.names[g], 100.0 * a->target_prob, 100.0 * a->tdr,
            100.0 * a->tdr_se, 100.0 * a->margin, a->passes ? "pass" : "fail",
            100.0 * b->margin, b->passes ? "pass" : "fail");
}

static void print_implied(FILE *out, const ipabs_breakeven_result *be,
                          const ipabs_rating_result *r, int m, const char *label)
{
    char grade[64], stress[64];
    ipabs_rating_grade_text(&r->grades, r->implied[m], grade, sizeof grade);
    stress_of_min(be, m, stress, sizeof stress);
    fprintf(out, "  %-40s %-10s (min BDR %.4f%%, %s)\n", label, grade,
            100.0 * be->min_bdr[m], stress);
}

static void print_view(FILE *out, const ipabs_deal *deal, const ipabs_rating_result *r,
                       const ipabs_rating_view *v)
{
    char grade[64];
    ipabs_rating_grade_text(&r->grades, v->grade, grade, sizeof grade);
    fprintf(out, "  %-8s %-26s P(loss) %.6f ± %.6f, EL %.6f%% ± %.6f%% -> %s\n",
            deal->tranches[v->tranche].name,
            v->support == IPABS_SUPPORT_FULL ? "guarantor as given:" : "no guarantor support:",
            v->prob_loss, v->prob_loss_se, 100.0 * v->el_fraction, 100.0 * v->el_fraction_se,
            grade);
}

void ipabs_rating_print(FILE *out, const ipabs_deal *deal,
                        const ipabs_breakeven_result *be,
                        const ipabs_rating_result *r)
{
    fprintf(out, "Target default rates (TDR): tenor %.4f years (%s of the senior class), "
                 "%lld paths, seed %llu\n",
            r->tenor_years, deal->rating.tenor == IPABS_TENOR_WAL ? "WAL" : "legal final",
            r->paths, (unsigned long long)r->seed);
    fprintf(out, "  margin = min BDR - TDR; min BDR %.4f%% stand-alone, %.4f%% supported\n",
            100.0 * be->min_bdr[IPABS_SUPPORT_NONE], 100.0 * be->min_bdr[IPABS_SUPPORT_FULL]);
    fprintf(out, "  %-6s %10s %10s %9s  %-16s %-16s\n", "grade", "target PD", "TDR",
            "std err", "margin, alone", "margin, support");
    for (int g = 0; g < r->grades.n_grades; g++)
        print_grade_row(out, r, g);
    fputs("Implied rating of the senior class (highest grade with TDR <= min BDR):\n", out);
    print_implied(out, be, r, IPABS_SUPPORT_NONE, "stand-alone (no guarantor support):");
    print_implied(out, be, r, IPABS_SUPPORT_FULL, "supported (guarantor never fails):");
    fputs("Monte Carlo view (best grade whose target PD >= P(loss)):\n", out);
    for (int i = 0; i < r->n_views; i++)
        print_view(out, deal, r, &r->views[i]);
}
