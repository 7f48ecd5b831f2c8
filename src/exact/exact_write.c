/*
 * exact_write.c — the exact module's three CSV files, written atomically
 * through csvout.h: the default-count law, the static loss law on the
 * output grid, and the summary in the Monte Carlo's subject/measure layout
 * (std_error and paths left empty: nothing here is sampled).
 */
#include "ipabs/exact.h"

#include "ipabs/csvout.h"

#include <stddef.h>

static ipabs_status write_counts(const ipabs_exact_result *r, const char *dir, bool bom,
                                 ipabs_error *err)
{
    static const char *const header[] = {"defaults", "probability", NULL};
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "default_count.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, header);
    for (int k = 0; k <= r->n_loans; k++) {
        ipabs_csv_int(&w, k);
        ipabs_csv_num(&w, r->default_count[k], -1);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

static void loss_row(ipabs_csv_out *w, double from, double to, double prob)
{
    ipabs_csv_num(w, from, -1);
    ipabs_csv_num(w, to, -1);
    ipabs_csv_num(w, prob, -1);
    ipabs_csv_end_row(w);
}

static ipabs_status write_losses(const ipabs_exact_result *r, const char *dir, bool bom,
                                 ipabs_error *err)
{
    static const char *const header[] = {"loss_from", "loss_to", "probability", NULL};
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "loss_distribution.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, header);
    loss_row(&w, 0.0, 0.0, r->loss_zero);
    for (int k = 0; k < IPABS_LOSS_BUCKETS; k++)
        loss_row(&w, k * r->bucket_width, (k + 1) * r->bucket_width,
                 r->loss_bucket[k]);
    return ipabs_csv_commit(&w, err);
}

static void summary_row(ipabs_csv_out *w, const char *subject,
                        const char *measure, double value)
{
    ipabs_csv_text(w, subject);
    ipabs_csv_text(w, measure);
    ipabs_csv_num(w, value, -1);
    for (int k = 0; k < 4; k++) /* std_error, ci_lower, ci_upper, paths */
        ipabs_csv_empty(w);
    ipabs_csv_end_row(w);
}

static void summary_rows(ipabs_csv_out *w, const ipabs_deal *deal,
                         const ipabs_exact_result *r)
{
    summary_row(w, "pool", "prob_no_default", r->prob_no_default);
    summary_row(w, "pool", "expected_defaults", r->expected_defaults);
    summary_row(w, "pool", "expected_loss", r->expected_loss);
    summary_row(w, "pool", "loss_q95", r->loss_q95);
    summary_row(w, "pool", "loss_q99", r->loss_q99);
    summary_row(w, "pool", "loss_q999", r->loss_q999);
    summary_row(w, "pool", "expected_shortfall_99", r->expected_shortfall_99);
    for (int k = 0; k < r->n_tranches; k++) {
        summary_row(w, deal->tranches[k].name, "static_expected_loss",
                    r->tranche_expected_loss[k]);
        summary_row(w, deal->tranches[k].name, "static_prob_loss",
                    r->tranche_prob_loss[k]);
    }
    summary_row(w, "guarantor", "prob_default", r->guarantor_prob_default);
    summary_row(w, "guarantor", "prob_senior_loss_and_default",
                r->prob_senior_loss_and_guarantor_default);
    summary_row(w, "exact", "quadrature_order", r->order);
    summary_row(w, "exact", "precision", r->precision);
    summary_row(w, "exact", "horizon", r->horizon);
}

static ipabs_status write_summary(const ipabs_deal *deal,
                                  const ipabs_exact_result *r, const char *dir, bool bom,
                                  ipabs_error *err)
{
    static const char *const header[] = {"subject", "measure", "value",
                                         "std_error", "ci_lower", "ci_upper",
                                         "paths", NULL};
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "summary.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, header);
    summary_rows(&w, deal, r);
    return ipabs_csv_commit(&w, err);
}

ipabs_status ipabs_exact_write(const ipabs_deal *deal,
                               const ipabs_exact_result *r, const char *dir, bool bom,
                               ipabs_error *err)
{
    if (deal == NULL || r == NULL || dir == NULL)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "ipabs_exact_write: deal, result and directory "
                               "must not be NULL");
    if (r->n_loans != deal->n_loans || r->n_tranches != deal->n_tranches)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "ipabs_exact_write: the result (%d loans, %d "
                               "tranches) is not of this deal (%d, %d)",
                               r->n_loans, r->n_tranches, deal->n_loans,
                               deal->n_tranches);
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s == IPABS_OK)
        s = write_counts(r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_losses(r, dir, bom, err);
    if (s == IPABS_OK)
        s = write_summary(deal, r, dir, bom, err);
    return s;
}
