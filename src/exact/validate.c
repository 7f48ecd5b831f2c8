/*
 * validate.c — z-scores of a Monte Carlo run against the exact module.
 */
#include "ipabs/validate.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct sink {
    ipabs_comparison *out;
    int max, n;
} sink;

static void put(sink *k, const char *subject, const char *measure, double mc,
                double se, double exact)
{
    if (k->n < k->max) {
        ipabs_comparison *c = &k->out[k->n];
        snprintf(c->subject, sizeof c->subject, "%s", subject);
        snprintf(c->measure, sizeof c->measure, "%s", measure);
        c->mc = mc;
        c->std_error = se;
        c->exact = exact;
        double diff = mc - exact;
        c->z = se > 0.0 ? diff / se : (fabs(diff) <= 1e-12 * (1.0 + fabs(exact)) ? 0.0
                                                                                : INFINITY);
    }
    k->n++;
}

/* A quantile against the exact one, x: the Monte Carlo agrees when the
 * empirical distribution function reaches p at x and not before it, within
 * sampling error: F_n(x) >= p and F_n(x-) <= p, each up to z times the
 * error of F_n there: sqrt(p (1 - p) / n) for plain paths, the weighted
 * share's delta-method error under importance sampling.  z is that of the
 * violated side (0 when neither is); the standard error shown is the
 * quantile's (its interval, in yuan). */
static void put_quantile(sink *k, const ipabs_deal *deal, const ipabs_mc_result *mc,
                         const char *measure, int tracker, double p, double exact)
{
    double n = ipabs_mc_tracker_paths(mc, tracker), below, upto, se_below, se_upto;
    ipabs_quantile_est e = ipabs_mc_quantile(mc, tracker, p);
    ipabs_mc_cdf(mc, tracker, exact, &below, &upto, &se_below, &se_upto);
    double sd = sqrt(p * (1.0 - p) / n), z = 0.0;
    if (upto < p)
        z = (upto - p) / (mc->weighted ? se_upto : sd);
    else if (below > p)
        z = (below - p) / (mc->weighted ? se_below : sd);
    (void)deal;
    put(k, "pool", measure, e.value, e.se, exact);
    if (k->n <= k->max)
        k->out[k->n - 1].z = z;
}

/* A probability estimated from n paths, against its exact value. */
static void put_prob(sink *k, const char *subject, const char *measure, double mc,
                     double exact, double n)
{
    put(k, subject, measure, mc, sqrt(exact * (1.0 - exact) / n), exact);
}

static void put_mean(sink *k, const ipabs_deal *deal, const ipabs_mc_result *mc,
                     const char *subject, const char *measure, double exact)
{
    double v = NAN, se = NAN;
    ipabs_mc_lookup(deal, mc, subject, measure, &v, &se);
    put(k, subject, measure, v, se, exact);
}

/* A law compared cell by cell, consecutive cells merged until each group
 * expects at least MIN_EXPECTED paths: the normal approximation behind a
 * z-score needs that, and a single path in a cell of probability 1e-8 says
 * only that the tail was reached somewhere. */
#define MIN_EXPECTED 10.0

typedef struct law {
    const char *subject;
    const char *label;     /* "defaults" or "bucket" */
    int first;             /* label of cell 0 */
    int n;
    const double *exact;   /* by cell */
    ipabs_mc_law which;    /* the run's law */
} law;

/* Plain Monte Carlo: the binomial error under the exact p, as put_prob;
 * importance sampling: the group's weighted share and its own error
 * (ipabs_mc_prob_group).  Groups are formed on the exact law alone, so
 * both see the same groups. */
static void compare_law(sink *k, const ipabs_mc_result *mc, const law *w, double paths)
{
    double p = 0.0;
    int from = 0;
    char name[64];
    for (int j = 0; j < w->n; j++) {
        p += w->exact[j];
        double rest = 0.0;
        for (int i = j + 1; i < w->n; i++)
            rest += w->exact[i];
        bool enough = paths * p >= MIN_EXPECTED && paths * rest >= MIN_EXPECTED;
        if (!enough && j < w->n - 1)
            continue;
        if (from == j)
            snprintf(name, sizeof name, "%s=%d", w->label, w->first + from);
        else
            snprintf(name, sizeof name, "%s=%d..%d", w->label, w->first + from, w->first + j);
        double v, se;
        ipabs_mc_prob_group(mc, w->which, (size_t)from, (size_t)j, &v, &se);
        if (mc->weighted)
            put(k, w->subject, name, v, se, p);
        else
            put_prob(k, w->subject, name, v, p, paths);
        p = 0.0;
        from = j + 1;
    }
}

static void laws(sink *k, const ipabs_deal *deal, const ipabs_mc_result *mc,
                 const ipabs_exact_result *ex)
{
    double n = (double)mc->paths;
    law counts = {"default_count", "defaults", 0, deal->n_loans + 1, ex->default_count,
                  IPABS_LAW_DEFAULT_COUNT};
    compare_law(k, mc, &counts, n);
    double v, se;
    ipabs_mc_prob_group(mc, IPABS_LAW_LOSS_ZERO, 0, 0, &v, &se);
    if (mc->weighted)
        put(k, "loss_distribution", "loss=0", v, se, ex->loss_zero);
    else
        put_prob(k, "loss_distribution", "loss=0", v, ex->loss_zero, n);
    law buckets = {"loss_distribution", "bucket", 1, IPABS_LOSS_BUCKETS, ex->loss_bucket,
                   IPABS_LAW_LOSS_BUCKET};
    compare_law(k, mc, &buckets, n);
}

/* A probability against its exact value: plain Monte Carlo's error is the
 * binomial one under the exact p; importance sampling's is its own
 * weighted error (the weights change the variance, not the mean). */
static void put_p(sink *k, const ipabs_deal *deal, const ipabs_mc_result *mc,
                  const char *subject, const char *measure, double exact, double n)
{
    double v = NAN, se = NAN;
    ipabs_mc_lookup(deal, mc, subject, measure, &v, &se);
    if (mc->weighted)
        put(k, subject, measure, v, se, exact);
    else
        put_prob(k, subject, measure, v, exact, n);
}

int ipabs_compare_exact(const ipabs_deal *deal, const ipabs_mc_result *mc,
                        const ipabs_exact_result *ex, ipabs_comparison *out, int max)
{
    sink k = {out, max, 0};
    double n = (double)mc->paths;
    put_p(&k, deal, mc, "pool", "prob_no_default", ex->prob_no_default, n);
    put_mean(&k, deal, mc, "pool", "expected_defaults", ex->expected_defaults);
    put_mean(&k, deal, mc, "pool", "expected_loss", ex->expected_loss);
    for (int t = 0; t < deal->n_tranches; t++) {
        const char *name = deal->tranches[t].name;
        put_mean(&k, deal, mc, name, "static_expected_loss", ex->tranche_expected_loss[t]);
        put_p(&k, deal, mc, name, "static_prob_loss", ex->tranche_prob_loss[t], n);
    }
    put_p(&k, deal, mc, "guarantor", "prob_default", ex->guarantor_prob_default, n);
    if (!isnan(ex->prob_senior_loss_and_guarantor_default))
        put_p(&k, deal, mc, "guarantor", "prob_senior_loss_and_default",
              ex->prob_senior_loss_and_guarantor_default, n);
    /* Under importance sampling the quantiles, the expected shortfall and
     * the laws are the weighted ones, with their weighted errors. */
    int qt = deal->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_STATIC_LOSS;
    put_quantile(&k, deal, mc, "loss_q95", qt, 0.95, ex->loss_q95);
    put_quantile(&k, deal, mc, "loss_q99", qt, 0.99, ex->loss_q99);
    put_quantile(&k, deal, mc, "loss_q999", qt, 0.999, ex->loss_q999);
    put_mean(&k, deal, mc, "pool", "expected_shortfall_99", ex->expected_shortfall_99);
    laws(&k, deal, mc, ex);
    return k.n;
}
