/*
 * mc_report.c — from accumulated Monte Carlo statistics to the rows of
 * summary.csv (one list, used for the file, the printed table and
 * --check-exact), and the other result files of `ipabs run`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/csvout.h"
#include "mc_internal.h"

typedef struct row {
    const char *subject;
    const char *measure;
    double value;
    double se;    /* NaN: none */
    double lower, upper; /* IPABS_CI_LEVEL confidence interval; NaN: none */
    double paths; /* NaN: not a Monte Carlo figure */
} row;

typedef struct rows {
    row *v;
    int n, cap;
    bool oom;
} rows;

/* A row whose interval is given (quantiles: from order statistics). */
static void add_ci(rows *rs, const char *subject, const char *measure, double value,
                   double se, double lower, double upper, double paths)
{
    if (rs->n == rs->cap) {
        int cap = rs->cap ? 2 * rs->cap : 256;
        row *v = realloc(rs->v, (size_t)cap * sizeof *v);
        if (v == NULL) {
            rs->oom = true;
            return;
        }
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n++] = (row){subject, measure, value, se, lower, upper, paths};
}

/* A row whose estimator is asymptotically normal (means, expected
 * shortfall): the interval is value -+ z se. */
static void add(rows *rs, const char *subject, const char *measure,
                double value, double se, double paths)
{
    add_ci(rs, subject, measure, value, se, value - IPABS_CI_Z * se,
           value + IPABS_CI_Z * se, paths);
}

static void add_mean(rows *rs, const ipabs_mc_result *r, const char *subject,
                     const char *measure, int index, double scale)
{
    const ipabs_moments *m = &r->moments[index];
    add(rs, subject, measure, m->mean * scale, ipabs_moments_se(m) * scale, m->n);
}

static void add_quantile(rows *rs, const ipabs_mc_result *r, const char *subject,
                         const char *measure, int tracker, double p)
{
    /* weighted under importance sampling (docs/measures.md) */
    ipabs_quantile_est e = ipabs_mc_quantile(r, tracker, p);
    add_ci(rs, subject, measure, e.value, e.se, e.lower, e.upper, ipabs_mc_tracker_paths(r, tracker));
}

static void add_tail_mean(rows *rs, const ipabs_mc_result *r, const char *subject,
                          const char *measure, int tracker, double p)
{
    double se;
    double v = ipabs_mc_tail_mean(r, tracker, p, &se);
    add(rs, subject, measure, v, se, ipabs_mc_tracker_paths(r, tracker));
}

static void tranche_rows(rows *rs, const ipabs_deal *deal, const ipabs_mc_result *r,
                         int k, double promised)
{
    const ipabs_tranche *tr = &deal->tranches[k];
    const char *s = tr->name;
    int m0 = r->layout.tranche0 + k * IPABS_TM_COUNT_;
    int q0 = k * IPABS_QT_PER_TRANCHE_;
    add(rs, s, "original_balance", tr->balance, NAN, NAN);
    add(rs, s, "promised_cash", promised, NAN, NAN);
    add_mean(rs, r, s, "expected_cash_received", m0 + IPABS_TM_CASH, 1.0);
    add_mean(rs, r, s, "expected_loss", m0 + IPABS_TM_LOSS, 1.0);
    add_mean(rs, r, s, "expected_loss_fraction", m0 + IPABS_TM_LOSS, 1.0 / tr->balance);
    add_mean(rs, r, s, "expected_loss_pv", m0 + IPABS_TM_LOSS_PV, 1.0);
    add_mean(rs, r, s, "expected_interest_loss", m0 + IPABS_TM_INTEREST_LOSS, 1.0);
    add_mean(rs, r, s, "prob_loss", m0 + IPABS_TM_ANY_LOSS, 1.0);
    add_mean(rs, r, s, "prob_interest_shortfall", m0 + IPABS_TM_INTEREST_SHORT, 1.0);
    add_quantile(rs, r, s, "loss_q95", q0 + IPABS_QT_TRANCHE_LOSS, 0.95);
    add_quantile(rs, r, s, "loss_q99", q0 + IPABS_QT_TRANCHE_LOSS, 0.99);
    add_quantile(rs, r, s, "loss_q999", q0 + IPABS_QT_TRANCHE_LOSS, 0.999);
    add_tail_mean(rs, r, s, "expected_shortfall_95", q0 + IPABS_QT_TRANCHE_LOSS, 0.95);
    add_tail_mean(rs, r, s, "expected_shortfall_99", q0 + IPABS_QT_TRANCHE_LOSS, 0.99);
    add_tail_mean(rs, r, s, "expected_shortfall_999", q0 + IPABS_QT_TRANCHE_LOSS, 0.999);
    add_mean(rs, r, s, "prob_wiped_out", m0 + IPABS_TM_WIPED_OUT, 1.0);
    add_mean(rs, r, s, "expected_loss_given_guarantor_default",
             m0 + IPABS_TM_LOSS_IF_G_DEFAULT, 1.0);
    add_mean(rs, r, s, "expected_loss_and_guarantor_default",
             m0 + IPABS_TM_LOSS_AND_G_DEFAULT, 1.0);
    add_mean(rs, r, s, "wal_years", m0 + IPABS_TM_WAL, 1.0);
    add_quantile(rs, r, s, "wal_years_q05", q0 + IPABS_QT_TRANCHE_WAL, 0.05);
    add_quantile(rs, r, s, "wal_years_q50", q0 + IPABS_QT_TRANCHE_WAL, 0.50);
    add_quantile(rs, r, s, "wal_years_q95", q0 + IPABS_QT_TRANCHE_WAL, 0.95);
    add_mean(rs, r, s, "irr_mean", m0 + IPABS_TM_IRR, 1.0);
    add_quantile(rs, r, s, "irr_q05", q0 + IPABS_QT_TRANCHE_IRR, 0.05);
    add_quantile(rs, r, s, "irr_q01", q0 + IPABS_QT_TRANCHE_IRR, 0.01);
    add_mean(rs, r, s, "static_expected_loss", m0 + IPABS_TM_STATIC_LOSS, 1.0);
    add_mean(rs, r, s, "static_prob_loss", m0 + IPABS_TM_STATIC_ANY_LOSS, 1.0);
}

static void guarantor_rows(rows *rs, const ipabs_deal *deal, const ipabs_mc_result *r)
{
    const char *s = "guarantor";
    int g = r->layout.guarantor0;
    int q = deal->n_tranches * IPABS_QT_PER_TRANCHE_;
    add_mean(rs, r, s, "prob_payout", g + IPABS_GM_ANY_PAYMENT, 1.0);
    add_mean(rs, r, s, "expected_guarantee_payout", g + IPABS_GM_PAYOUT, 1.0);
    add_quantile(rs, r, s, "payout_q99", q + IPABS_QG_PAYOUT, 0.99);
    add_mean(rs, r, s, "expected_topup", g + IPABS_GM_TOPUP, 1.0);
    add_quantile(rs, r, s, "topup_q99", q + IPABS_QG_TOPUP, 0.99);
    add_mean(rs, r, s, "expected_recovery", g + IPABS_GM_RECOVERY, 1.0);
    add_mean(rs, r, s, "expected_fees", g + IPABS_GM_FEES, 1.0);
    add_mean(rs, r, s, "net_pnl_mean", g + IPABS_GM_NET_PNL, 1.0);
    add_quantile(rs, r, s, "net_pnl_q01", q + IPABS_QG_NET_PNL, 0.01);
    add_mean(rs, r, s, "net_pnl_pv_mean", g + IPABS_GM_NET_PNL_PV, 1.0);
    add_mean(rs, r, s, "prob_capacity_exhausted", g + IPABS_GM_CAPACITY_EXHAUSTED, 1.0);
    add_mean(rs, r, s, "prob_default", g + IPABS_GM_DEFAULT, 1.0);
    add_mean(rs, r, s, "expected_unpaid_support", g + IPABS_GM_UNPAID, 1.0);
    add_mean(rs, r, s, "prob_senior_loss_and_default",
             g + IPABS_GM_SENIOR_STATIC_LOSS_AND_DEFAULT, 1.0);
    /* Only when the guarantor supports a put, so other deals' tables keep
     * their rows. */
    bool supports = false;
    for (int k = 0; k < deal->n_tranches; k++)
        supports |= deal->tranches[k].n_puts > 0 &&
                    deal->tranches[k].put_supporter == IPABS_SUPPORTER_GUARANTOR;
    if (supports) {
        add_mean(rs, r, s, "expected_put_purchase", g + IPABS_GM_PUT_PURCHASE, 1.0);
        add_mean(rs, r, s, "expected_held_loss", g + IPABS_GM_HELD_LOSS, 1.0);
    }
}

static void pool_rows(rows *rs, const ipabs_deal *deal, const ipabs_mc_result *r)
{
    const char *s = "pool";
    int p = r->layout.pool0;
    int q = deal->n_tranches * IPABS_QT_PER_TRANCHE_;
    add_mean(rs, r, s, "expected_defaults", p + IPABS_PM_DEFAULTS, 1.0);
    add_mean(rs, r, s, "prob_no_default", p + IPABS_PM_NO_DEFAULT, 1.0);
    add_mean(rs, r, s, "expected_loss", p + IPABS_PM_STATIC_LOSS, 1.0);
    add_quantile(rs, r, s, "loss_q95", q + IPABS_QG_POOL_STATIC_LOSS, 0.95);
    add_quantile(rs, r, s, "loss_q99", q + IPABS_QG_POOL_STATIC_LOSS, 0.99);
    add_quantile(rs, r, s, "loss_q999", q + IPABS_QG_POOL_STATIC_LOSS, 0.999);
    add_tail_mean(rs, r, s, "expected_shortfall_95", q + IPABS_QG_POOL_STATIC_LOSS, 0.95);
    add_tail_mean(rs, r, s, "expected_shortfall_99", q + IPABS_QG_POOL_STATIC_LOSS, 0.99);
    add_tail_mean(rs, r, s, "expected_shortfall_999", q + IPABS_QG_POOL_STATIC_LOSS, 0.999);
    add_mean(rs, r, s, "expected_credit_loss", p + IPABS_PM_CREDIT_LOSS, 1.0);
    add_quantile(rs, r, s, "credit_loss_q99", q + IPABS_QG_POOL_CREDIT_LOSS, 0.99);
    add_mean(rs, r, s, "loss_borne_guarantor", p + IPABS_PM_BORNE_GUARANTOR, 1.0);
    add_mean(rs, r, s, "loss_borne_senior", p + IPABS_PM_BORNE_SENIOR, 1.0);
    add_mean(rs, r, s, "loss_borne_sub", p + IPABS_PM_BORNE_SUB, 1.0);
    add_mean(rs, r, s, "loss_borne_excess_spread", p + IPABS_PM_BORNE_EXCESS, 1.0);
    add_mean(rs, r, s, "cumulative_default_ratio",
             r->layout.period0 + deal->legal_final - 1, 1.0);
    add_quantile(rs, r, s, "cumulative_default_ratio_q99", q + IPABS_QG_POOL_CDR, 0.99);
    add_quantile(rs, r, s, "cumulative_default_ratio_q999", q + IPABS_QG_POOL_CDR, 0.999);
    add(rs, s, "coverage_ratio_min_no_default", r->baseline[p + IPABS_PM_MIN_COVERAGE], NAN,
        NAN);
    add_mean(rs, r, s, "coverage_ratio_min_mean", p + IPABS_PM_MIN_COVERAGE, 1.0);
    add_quantile(rs, r, s, "coverage_ratio_min_q05", q + IPABS_QG_MIN_COVERAGE, 0.05);
    add_quantile(rs, r, s, "coverage_ratio_min_q01", q + IPABS_QG_MIN_COVERAGE, 0.01);
    double n = (double)r->paths;
    add(rs, s, "fast_path_share", (double)r->fast_paths / n, NAN, n);
}

static void loan_rows(rows *rs, const ipabs_deal *deal, const ipabs_mc_result *r)
{
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        add_mean(rs, r, l->id, "prob_default", r->layout.loan0 + 2 * i, 1.0);
        add_mean(rs, r, l->id, "expected_credit_loss", r->layout.loan0 + 2 * i + 1, 1.0);
        add(rs, l->id, "all_in_cost",
            l->rate + l->guarantee_fee_rate + l->other_charges_rate - l->subsidy_rate, NAN,
            NAN);
    }
}

/* The promised cash of a tranche: what the no-default path pays it. */
static double promised_cash(const ipabs_mc_result *r, int k)
{
    return r->baseline[r->layout.tranche0 + k * IPABS_TM_COUNT_ + IPABS_TM_CASH];
}

static bool collect(const ipabs_deal *deal, const ipabs_mc_result *r, rows *rs)
{
    memset(rs, 0, sizeof *rs);
    for (int k = 0; k < deal->n_tranches; k++)
        tranche_rows(rs, deal, r, k, promised_cash(r, k));
    guarantor_rows(rs, deal, r);
    pool_rows(rs, deal, r);
    loan_rows(rs, deal, r);
    return !rs->oom;
}

/* ---- files ---------------------------------------------------------------- */

static void num_or_empty(ipabs_csv_out *w, double v)
{
    ipabs_csv_num(w, v, -1);
}

static ipabs_status write_summary(const rows *rs, const char *dir, bool bom,
                                  ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "summary.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"subject", "measure", "value", "std_error",
                                       "ci_lower", "ci_upper", "paths", NULL};
    ipabs_csv_header(&w, head);
    for (int i = 0; i < rs->n; i++) {
        const row *x = &rs->v[i];
        ipabs_csv_text(&w, x->subject);
        ipabs_csv_text(&w, x->measure);
        num_or_empty(&w, x->value);
        num_or_empty(&w, x->se);
        num_or_empty(&w, x->lower);
        num_or_empty(&w, x->upper);
        if (isnan(x->paths))
            ipabs_csv_empty(&w);
        else
            ipabs_csv_int(&w, (long long)x->paths);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

static void prob_cells(ipabs_csv_out *w, const ipabs_mc_result *r, ipabs_mc_law law,
                       size_t cell)
{
    double p, se;
    ipabs_mc_prob(r, law, cell, &p, &se);
    ipabs_csv_num(w, p, -1);
    ipabs_csv_num(w, se, -1);
}

static ipabs_status write_default_count(const ipabs_deal *deal, const ipabs_mc_result *r,
                                        const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "default_count.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"defaults", "probability", "std_error", NULL};
    ipabs_csv_header(&w, head);
    for (int k = 0; k <= deal->n_loans; k++) {
        ipabs_csv_int(&w, k);
        prob_cells(&w, r, IPABS_LAW_DEFAULT_COUNT, (size_t)k);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

static ipabs_status write_loss_distribution(const ipabs_deal *deal, const ipabs_mc_result *r,
                                            const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "loss_distribution.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"loss_from", "loss_to", "probability", "std_error", NULL};
    ipabs_csv_header(&w, head);
    double width = deal->pool_balance / IPABS_LOSS_BUCKETS;
    ipabs_csv_num(&w, 0.0, 2);
    ipabs_csv_num(&w, 0.0, 2);
    prob_cells(&w, r, IPABS_LAW_LOSS_ZERO, 0);
    ipabs_csv_end_row(&w);
    for (int b = 0; b < IPABS_LOSS_BUCKETS; b++) {
        ipabs_csv_num(&w, b * width, 2);
        ipabs_csv_num(&w, (b + 1) * width, 2);
        prob_cells(&w, r, IPABS_LAW_LOSS_BUCKET, (size_t)b);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

static ipabs_status write_cdr(const ipabs_deal *deal, const ipabs_mc_result *r,
                              const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "cdr.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"period", "date", "expected_cumulative_default_ratio",
                                       "std_error", NULL};
    ipabs_csv_header(&w, head);
    for (int t = 1; t <= deal->legal_final; t++) {
        const ipabs_moments *m = &r->moments[r->layout.period0 + t - 1];
        char date[11];
        ipabs_date_format(deal->dates[t], date);
        ipabs_csv_int(&w, t);
        ipabs_csv_text(&w, date);
        ipabs_csv_num(&w, m->mean, -1);
        ipabs_csv_num(&w, ipabs_moments_se(m), -1);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

/* The cash-flow coverage ratio by payment date: on the no-default path,
 * and its mean over the paths on which it is defined. */
static ipabs_status write_coverage(const ipabs_deal *deal, const ipabs_mc_result *r,
                                   const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "coverage.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"period", "date", "coverage_ratio_no_default",
                                       "expected_coverage_ratio", "std_error", "paths", NULL};
    ipabs_csv_header(&w, head);
    for (int t = 1; t <= deal->legal_final; t++) {
        int j = r->layout.coverage0 + t - 1;
        const ipabs_moments *m = &r->moments[j];
        char date[11];
        ipabs_date_format(deal->dates[t], date);
        ipabs_csv_int(&w, t);
        ipabs_csv_text(&w, date);
        ipabs_csv_num(&w, r->baseline[j], -1);
        ipabs_csv_num(&w, m->n > 0 ? m->mean : NAN, -1);
        ipabs_csv_num(&w, ipabs_moments_se(m), -1);
        ipabs_csv_int(&w, (long long)m->n);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

/* The law of the number of loans defaulted by each payment date. */
static ipabs_status write_count_by_period(const ipabs_deal *deal, const ipabs_mc_result *r,
                                          const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "default_count_by_period.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"period", "date", "defaults", "probability",
                                       "std_error", NULL};
    ipabs_csv_header(&w, head);
    int n1 = deal->n_loans + 1;
    for (int t = 1; t <= deal->legal_final; t++) {
        char date[11];
        ipabs_date_format(deal->dates[t], date);
        for (int k = 0; k < n1; k++) {
            ipabs_csv_int(&w, t);
            ipabs_csv_text(&w, date);
            ipabs_csv_int(&w, k);
            prob_cells(&w, r, IPABS_LAW_COUNT_BY_PERIOD, (size_t)(t - 1) * n1 + (size_t)k);
            ipabs_csv_end_row(&w);
        }
    }
    return ipabs_csv_commit(&w, err);
}

static ipabs_status write_run(const ipabs_mc_result *r, const ipabs_run_info *info,
                              const char *dir, ipabs_error *err)
{
    bool bom = !info->no_bom;
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "run.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {
        "version", "scenario", "scenario_sha256", "tape_sha256", "overrides", "seed",
        "paths_requested", "paths", "threads", "wall_seconds", "paths_per_second",
        "fast_path_share", "partial", "importance", "importance_shift_factor",
        "importance_shift_guarantor", "variance_reduction_senior_prob_loss",
        "variance_reduction_senior_static_prob_loss", "importance_guarantor_mixture", "simd",
        NULL};
    ipabs_csv_header(&w, head);
    ipabs_csv_text(&w, info->version);
    ipabs_csv_text(&w, info->scenario);
    ipabs_csv_text(&w, info->sha256);
    ipabs_csv_text(&w, info->tape_sha256 ? info->tape_sha256 : "");
    ipabs_csv_text(&w, info->overrides ? info->overrides : "");
    ipabs_csv_int(&w, (long long)r->seed);
    ipabs_csv_int(&w, r->requested);
    ipabs_csv_int(&w, r->paths);
    ipabs_csv_int(&w, r->threads);
    ipabs_csv_num(&w, r->wall_seconds, 3);
    ipabs_csv_num(&w, (double)r->paths / r->wall_seconds, 0);
    ipabs_csv_num(&w, (double)r->fast_paths / (double)r->paths, 6);
    ipabs_csv_text(&w, r->partial ? "true" : "false");
    ipabs_csv_text(&w, r->weighted ? "auto" : "off");
    ipabs_csv_num(&w, r->shift_factor, -1);
    ipabs_csv_num(&w, r->shift_guarantor, -1);
    /* The senior is tranche 0; no tranche, no senior (NaN: empty). */
    int senior = r->layout.n_tranches > 0 ? r->layout.tranche0 : -IPABS_TM_COUNT_;
    ipabs_csv_num(&w, ipabs_mc_variance_reduction(r, senior + IPABS_TM_ANY_LOSS), -1);
    ipabs_csv_num(&w, ipabs_mc_variance_reduction(r, senior + IPABS_TM_STATIC_ANY_LOSS), -1);
    ipabs_csv_num(&w, r->guarantor_mixture, -1);
    const char *simd = ipabs_mc_simd_name(r->simd);
    ipabs_csv_text(&w, simd != NULL ? simd : "");
    ipabs_csv_end_row(&w);
    return ipabs_csv_commit(&w, err);
}

ipabs_status ipabs_mc_write(const ipabs_deal *deal, const ipabs_mc_result *r,
                            const ipabs_run_info *info, const char *dir,
                            ipabs_error *err)
{
    rows rs;
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s != IPABS_OK)
        return s;
    if (!collect(deal, r, &rs)) {
        free(rs.v);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    bool bom = !info->no_bom;
    s = write_summary(&rs, dir, bom, err);
    free(rs.v);
    if (s == IPABS_OK)
        s = write_default_count(deal, r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_loss_distribution(deal, r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_cdr(deal, r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_coverage(deal, r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_count_by_period(deal, r, dir, bom, err);
    /* run.csv last: its presence says the others are complete. */
    if (s == IPABS_OK)
        s = write_run(r, info, dir, err);
    return s;
}

bool ipabs_mc_lookup(const ipabs_deal *deal, const ipabs_mc_result *r,
                     const char *subject, const char *measure, double *value,
                     double *std_error)
{
    rows rs;
    bool found = false;
    if (collect(deal, r, &rs))
        for (int i = 0; i < rs.n && !found; i++)
            if (strcmp(rs.v[i].subject, subject) == 0 &&
                strcmp(rs.v[i].measure, measure) == 0) {
                *value = rs.v[i].value;
                *std_error = rs.v[i].se;
                found = true;
            }
    free(rs.v);
    return found;
}

/* ---- the printed table ---------------------------------------------------- */

static double get(const rows *rs, const char *subject, const char *measure, double *se)
{
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->v[i].subject, subject) == 0 && strcmp(rs->v[i].measure, measure) == 0) {
            if (se != NULL)
                *se = rs->v[i].se;
            return rs->v[i].value;
        }
    return NAN;
}

static void line(FILE *out, const rows *rs, const char *subject, const char *measure,
                 const char *label, const char *fmt_value)
{
    double se = NAN;
    double v = get(rs, subject, measure, &se);
    fprintf(out, "  %-34s ", label);
    fprintf(out, fmt_value, v);
    if (!isnan(se)) {
        fputs("  ± ", out);
        fprintf(out, fmt_value, se);
    }
    fputc('\n', out);
}

void ipabs_mc_print(FILE *out, const ipabs_deal *deal, const ipabs_mc_result *r)
{
    rows rs;
    if (!collect(deal, r, &rs)) {
        free(rs.v);
        return;
    }
    fprintf(out, "%s: %lld paths, seed %llu, %d threads, %.2f s (%.0f paths/s)%s\n",
            deal->name, r->paths, (unsigned long long)r->seed, r->threads,
            r->wall_seconds, (double)r->paths / r->wall_seconds,
            r->partial ? " — PARTIAL" : "");
    for (int k = 0; k < deal->n_tranches; k++) {
        const char *s = deal->tranches[k].name;
        fprintf(out, "%s (%.2f)\n", s, deal->tranches[k].balance);
        line(out, &rs, s, "expected_loss", "expected loss (yuan)", "%14.2f");
        line(out, &rs, s, "expected_loss_fraction", "expected loss (fraction of balance)",
             "%14.8f");
        line(out, &rs, s, "prob_loss", "P(principal loss)", "%14.8f");
        line(out, &rs, s, "prob_interest_shortfall", "P(interest shortfall)", "%14.8f");
        line(out, &rs, s, "loss_q99", "loss 99% quantile", "%14.2f");
        line(out, &rs, s, "loss_q999", "loss 99.9% quantile", "%14.2f");
        line(out, &rs, s, "expected_shortfall_99", "expected shortfall 99%", "%14.2f");
        line(out, &rs, s, "prob_wiped_out", "P(wiped out)", "%14.8f");
        line(out, &rs, s, "expected_loss_and_guarantor_default", "E[loss x 1{guarantor default}]",
             "%14.2f");
        line(out, &rs, s, "wal_years", "WAL (years)", "%14.4f");
        line(out, &rs, s, "irr_mean", "IRR mean", "%14.6f");
    }
    fputs("guarantor\n", out);
    line(out, &rs, "guarantor", "prob_payout", "P(pays anything)", "%14.6f");
    line(out, &rs, "guarantor", "expected_guarantee_payout", "expected guarantee payout", "%14.2f");
    line(out, &rs, "guarantor", "expected_topup", "expected top-up", "%14.2f");
    line(out, &rs, "guarantor", "payout_q99", "payout 99% quantile", "%14.2f");
    line(out, &rs, "guarantor", "net_pnl_mean", "net P&L mean", "%14.2f");
    line(out, &rs, "guarantor", "prob_default", "P(guarantor default)", "%14.6f");
    fputs("pool\n", out);
    line(out, &rs, "pool", "expected_defaults", "expected defaults", "%14.6f");
    line(out, &rs, "pool", "prob_no_default", "P(no default)", "%14.6f");
    line(out, &rs, "pool", "expected_loss", "expected static loss", "%14.2f");
    line(out, &rs, "pool", "expected_credit_loss", "expected credit loss", "%14.2f");
    line(out, &rs, "pool", "loss_borne_guarantor", "  borne by the guarantor", "%14.2f");
    line(out, &rs, "pool", "loss_borne_sub", "  borne by the sub", "%14.2f");
    line(out, &rs, "pool", "loss_borne_senior", "  borne by the senior", "%14.2f");
    line(out, &rs, "pool", "loss_borne_excess_spread", "  absorbed by excess spread", "%14.2f");
    line(out, &rs, "pool", "coverage_ratio_min_no_default", "least coverage ratio, no default",
         "%14.4f");
    line(out, &rs, "pool", "coverage_ratio_min_q05", "least coverage ratio, 5% quantile",
         "%14.4f");
    free(rs.v);
}
