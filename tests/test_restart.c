/*
 * test_restart.c — a path workspace restarts each path from the no-default
 * state by putting back only the loans the previous path touched
 * (ipabs_state_copy_loans, mc_path.c), and keeps only the defaulting
 * loans' entries of the record.  Whatever paths came before, a path's
 * record must be the same bits as on a fresh workspace.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/model.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"
#include "mc_internal.h"

static void setup(void)
{
    ipabs_init();
}

static ipabs_deal *reference(const char *const *set, int n_set)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml",
                                     set, n_set, &d, &errors), IPABS_OK);
    ipabs_errors_clear(&errors);
    return d;
}

/* The four per-loan arrays, element by element, and the scalars read by
 * the next period (a few, enough to catch a partial copy). */
static bool same_state(const ipabs_deal *d, const ipabs_state *a, const ipabs_state *b)
{
    for (int i = 0; i < d->n_loans; i++)
        if (a->ead[i] != b->ead[i] || a->guarantor_paid[i] != b->guarantor_paid[i] ||
            a->plan_recovered[i] != b->plan_recovered[i] || a->scale[i] != b->scale[i])
            return false;
    for (int k = 0; k < d->n_tranches; k++)
        if (a->tranche_balance[k] != b->tranche_balance[k] ||
            a->interest_arrears[k] != b->interest_arrears[k])
            return false;
    return a->period == b->period && a->n_defaulted == b->n_defaulted &&
           a->performing_balance == b->performing_balance &&
           a->plan_cash == b->plan_cash && a->estate_claim == b->estate_claim;
}

Test(restart, copy_of_the_listed_loans_equals_a_full_copy, .init = setup)
{
    const char *set[] = {"guarantor.payout_style=scheduled", "guarantor.ip_pledgee=plan"};
    ipabs_deal *d = reference(set, 2);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_state *clean = ipabs_state_alloc(d), *path = ipabs_state_alloc(d),
                *back = ipabs_state_alloc(d);
    ipabs_period_flows fl;
    ipabs_error err;
    cr_assert_eq(ipabs_flows_init(d, &fl), IPABS_OK);
    /* Loans 2 and 7 default early enough to be paid and recovered on. */
    r->default_period[2] = 2;
    r->default_period[7] = 3;
    r->realisation[2] = 0.41;
    r->realisation[7] = 0.73;
    ipabs_realisation_index(d, r);
    for (int t = 1; t <= d->legal_final && !path->ended; t++)
        cr_assert_eq(ipabs_waterfall_step(d, r, path, &fl, NULL, &err), IPABS_OK, "%s",
                     err.message);
    /* The path touched both loans' entries, and only theirs. */
    cr_assert(path->ead[2] > 0.0 && path->ead[7] > 0.0);
    cr_assert(path->plan_recovered[2] > 0.0 || path->scale[2] < 1.0);
    cr_assert(!ipabs_state_same_loans(d, path, clean));
    ipabs_state_copy(d, back, path);
    ipabs_state_copy_loans(d, back, clean, r->order, r->n_defaults);
    cr_assert(same_state(d, back, clean), "restoring the listed loans gives the clean state");
    cr_assert(ipabs_state_same_loans(d, back, clean));
    /* Listing fewer loans leaves the others as they were. */
    ipabs_state_copy(d, back, path);
    ipabs_state_copy_loans(d, back, clean, r->order, 1);
    cr_assert(!ipabs_state_same_loans(d, back, clean));
    ipabs_flows_release(&fl);
    ipabs_state_free(clean);
    ipabs_state_free(path);
    ipabs_state_free(back);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Records of paths 0..n-1 evaluated forwards on one workspace, backwards
 * on another, and every 7th on a fresh workspace: the same bits. */
static void check_order_free(const char *const *set, int n_set, int n)
{
    ipabs_deal *d = reference(set, n_set);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    ipabs_mc_path *fw = ipabs_mc_path_alloc(d, plan, &err);
    ipabs_mc_path *bw = ipabs_mc_path_alloc(d, plan, &err);
    cr_assert(fw != NULL && bw != NULL);
    int M = ipabs_mc_layout_of(d).count, events = 0;
    double *rec = malloc((size_t)n * (size_t)M * sizeof(double));
    for (int p = 0; p < n; p++) {
        const double *v;
        cr_assert_eq(ipabs_mc_path_eval(fw, 3, (uint64_t)p, &v, &err), IPABS_OK, "%s", err.message);
        memcpy(&rec[(size_t)p * M], v, (size_t)M * sizeof(double));
        events += ipabs_mc_path_realisation(fw)->n_defaults > 0;
    }
    cr_assert_gt(events, n / 2, "most paths default (%d of %d)", events, n);
    for (int p = n - 1; p >= 0; p--) {
        const double *v;
        cr_assert_eq(ipabs_mc_path_eval(bw, 3, (uint64_t)p, &v, &err), IPABS_OK);
        cr_assert(memcmp(&rec[(size_t)p * M], v, (size_t)M * sizeof(double)) == 0,
                  "path %d: forwards and backwards differ", p);
        if (p % 7 == 0) {
            ipabs_mc_path *fresh = ipabs_mc_path_alloc(d, plan, &err);
            cr_assert_eq(ipabs_mc_path_eval(fresh, 3, (uint64_t)p, &v, &err), IPABS_OK);
            cr_assert(memcmp(&rec[(size_t)p * M], v, (size_t)M * sizeof(double)) == 0,
                      "path %d: a fresh workspace differs", p);
            ipabs_mc_path_free(fresh);
        }
    }
    free(rec);
    ipabs_mc_path_free(fw);
    ipabs_mc_path_free(bw);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

Test(restart, records_do_not_depend_on_earlier_paths, .init = setup, .timeout = 300)
{
    const char *accelerated[] = {"model.pd_multiplier=5"};
    check_order_free(accelerated, 1, 400);
    const char *scheduled[] = {"model.pd_multiplier=5", "guarantor.payout_style=scheduled",
                               "guarantor.ip_pledgee=plan", "guarantor.capacity=4000000"};
    check_order_free(scheduled, 4, 400);
}

/* A path restarted at its first event from the no-default path (its state
 * after the period before, its flows summed for the periods before)
 * against the same path run through every period from closing (no
 * baseline): every entry of the
 * record but those that depend on the baseline by definition (the yields,
 * solved from the no-default yield as a guess or taken from it, and the
 * coverage ratios, against the no-default promise), to the bit. */
static void check_restart_equals_full(const char *const *set, int n_set, int n)
{
    ipabs_deal *d = reference(set, n_set);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    ipabs_mc_path *w = ipabs_mc_path_alloc(d, plan, &err);
    cr_assert(w != NULL);
    ipabs_mc_layout L = ipabs_mc_layout_of(d);
    double *restarted = malloc((size_t)L.count * sizeof(double));
    int late = 0;
    for (int p = 0; p < n; p++) {
        const double *v;
        cr_assert_eq(ipabs_mc_path_eval(w, 11, (uint64_t)p, &v, &err), IPABS_OK, "%s",
                     err.message);
        memcpy(restarted, v, (size_t)L.count * sizeof(double));
        const ipabs_realisation *r = ipabs_mc_path_realisation(w);
        if (r->n_defaults == 0 && r->guarantor_default_period == 0)
            continue;
        late += r->n_defaults > 0 && r->default_period[r->order[0]] > 1;
        const mc_baseline *b = w->baseline;
        /* The coverage ratios before the first event were restored with the
         * sums (mc_baseline.prefix): the no-default record's, to the bit. */
        int e = r->n_defaults > 0 ? r->default_period[r->order[0]] : d->legal_final + 1;
        if (r->guarantor_default_period > 0 && r->guarantor_default_period < e)
            e = r->guarantor_default_period;
        for (int t = 1; t < e && t <= L.n_periods; t++)
            cr_assert(memcmp(&restarted[L.coverage0 + t - 1], &b->values[L.coverage0 + t - 1],
                             sizeof(double)) == 0,
                      "path %d, coverage of period %d: %.17g, no-default %.17g", p, t,
                      restarted[L.coverage0 + t - 1], b->values[L.coverage0 + t - 1]);
        w->baseline = NULL;
        ipabs_state_reset(d, w->state);
        cr_assert_eq(mc_path_evaluate(w, (uint64_t)p, &err), IPABS_OK, "%s", err.message);
        w->baseline = b;
        ipabs_state_copy(d, w->state, b->state[0]);
        for (int j = 0; j < L.count; j++) {
            bool irr = j < L.guarantor0 && j % IPABS_TM_COUNT_ == IPABS_TM_IRR;
            bool coverage = (j >= L.coverage0 && j < L.coverage0 + L.n_periods) ||
                            j == L.pool0 + IPABS_PM_MIN_COVERAGE;
            if (irr || coverage)
                continue;
            cr_assert(memcmp(&restarted[j], &w->values[j], sizeof(double)) == 0,
                      "path %d, entry %d: restarted %.17g, from closing %.17g", p, j,
                      restarted[j], w->values[j]);
        }
    }
    cr_assert_gt(late, n / 4, "paths whose first default is after period 1: %d", late);
    free(restarted);
    ipabs_mc_path_free(w);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(d);
}

Test(restart, a_path_from_its_first_event_equals_it_from_closing, .init = setup, .timeout = 300)
{
    const char *accelerated[] = {"model.pd_multiplier=5"};
    check_restart_equals_full(accelerated, 1, 400);
    const char *scheduled[] = {"model.pd_multiplier=5", "guarantor.payout_style=scheduled",
                               "guarantor.ip_pledgee=plan", "guarantor.capacity=4000000"};
    check_restart_equals_full(scheduled, 4, 400);
}
