/*
 * deal_copy.c — ipabs_deal_copy(): a deep copy of a deal's terms, the
 * starting point of every transformed deal (the breakeven module splits
 * loans into pieces; the rating module removes the guarantor's support).
 *
 * The copy owns every string and array it points to, exactly as a deal
 * read from a scenario does, so ipabs_deal_free() releases it.  Derived
 * arrays are not copied: the caller edits the terms and finalises.
 *
 * Ownership discipline on failure: the copy starts as a struct copy with
 * every owned pointer and its count cleared, and each array is attached
 * with its count only once allocated (entries zeroed), so freeing a
 * half-built copy is always safe.
 */
#include "ipabs/deal.h"

#include <stdlib.h>
#include <string.h>

/* strdup of an optional string: NULL stays NULL; *ok cleared on ENOMEM. */
static char *dup_text(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(copy, s, n);
    return copy;
}

/* A copy of n elements of `size` bytes; NULL for NULL or n = 0. */
static void *dup_array(const void *src, size_t n, size_t size, bool *ok)
{
    if (src == NULL || n == 0)
        return NULL;
    void *copy = malloc(n * size);
    if (copy == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(copy, src, n * size);
    return copy;
}

static char **dup_strings(char *const *src, int n, bool *ok)
{
    if (src == NULL || n <= 0)
        return NULL;
    char **copy = calloc((size_t)n, sizeof *copy);
    if (copy == NULL) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++)
        copy[i] = dup_text(src[i], ok);
    return copy;
}

/* ---- clearing: a struct copy that owns nothing yet ------------------------- */

static void clear_owned(ipabs_deal *d)
{
    d->name = d->currency = d->source_file = d->tape_file = NULL;
    d->n_loans = d->n_tranches = d->n_expenses = 0;
    d->loans = NULL;
    d->tranches = NULL;
    d->expenses = NULL;
    d->guarantor.name = d->guarantor.rating = NULL;
    d->model.n_sectors = d->model.n_ratings = d->model.n_curves = 0;
    d->model.sector_names = d->model.rating_names = NULL;
    d->model.sector_loading = d->model.rating_pd = NULL;
    d->model.curves = NULL;
    d->rating.n_timings = d->rating.n_recovery_multipliers = 0;
    d->rating.n_recovery_delays = d->rating.n_grades = 0;
    d->rating.timings = NULL;
    d->rating.recovery_multipliers = NULL;
    d->rating.recovery_delays = NULL;
    d->rating.grade_names = NULL;
    d->rating.grade_prob = NULL;
    d->n_holidays = d->n_workdays = 0;
    d->holidays = d->workdays = NULL;
    d->n_call_periods = 0;
    d->call_periods = NULL;
    d->dates = d->accrual_dates = NULL;
    d->accrual = NULL;
    for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++)
        d->accrual_dc[dc] = d->pay_accrual_dc[dc] = NULL;
    d->pool_interest = d->pool_principal = d->pool_agency_fee = NULL;
    d->pool_servicing_fee = d->pool_guarantee_fee = NULL;
    d->loans_running_after = NULL;
    d->loan_period = NULL;
    d->loan_hot = NULL;
    for (int o = 0; o < IPABS_N_POPS; o++)
        d->pop[o] = (ipabs_pop){0};
}

/* The orders of payments the scenario stated; the others are derived and
 * rebuilt by ipabs_deal_finalize. */
static void copy_orders(ipabs_deal *d, const ipabs_deal *src, bool *ok)
{
    for (int o = 0; o < IPABS_N_POPS; o++) {
        if (!src->pop_given[o])
            continue;
        const ipabs_pop *p = &src->pop[o];
        d->pop[o].steps = dup_array(p->steps, (size_t)p->n_steps, sizeof *p->steps, ok);
        d->pop[o].classes = dup_array(p->classes, (size_t)p->n_classes,
                                      sizeof *p->classes, ok);
        d->pop[o].n_steps = d->pop[o].steps != NULL ? p->n_steps : 0;
        d->pop[o].n_classes = d->pop[o].classes != NULL ? p->n_classes : 0;
    }
}

/* ---- the parts -------------------------------------------------------------- */

static void copy_loan(ipabs_loan *dst, const ipabs_loan *src, bool *ok)
{
    *dst = *src;
    dst->balance = dst->interest = dst->amortisation = dst->prepayment = NULL;
    dst->schedule = dup_array(src->schedule, (size_t)src->term + 1,
                              sizeof(double), ok);
    dst->id = dup_text(src->id, ok);
    dst->firm = dup_text(src->firm, ok);
    dst->sector = dup_text(src->sector, ok);
    dst->rating = dup_text(src->rating, ok);
    dst->pd_curve = dup_text(src->pd_curve, ok);
    dst->ip_type = dup_text(src->ip_type, ok);
}

static void copy_loans(ipabs_deal *d, const ipabs_deal *src, const int *from,
                       int n, bool *ok)
{
    d->loans = calloc((size_t)n, sizeof *d->loans);
    if (d->loans == NULL) {
        *ok = false;
        return;
    }
    d->n_loans = n;
    for (int j = 0; j < n; j++)
        copy_loan(&d->loans[j], &src->loans[from != NULL ? from[j] : j], ok);
}

static void copy_tranches(ipabs_deal *d, const ipabs_deal *src, bool *ok)
{
    if (src->n_tranches <= 0)
        return;
    d->tranches = calloc((size_t)src->n_tranches, sizeof *d->tranches);
    if (d->tranches == NULL) {
        *ok = false;
        return;
    }
    d->n_tranches = src->n_tranches;
    size_t periods = (size_t)src->legal_final + 1;
    for (int k = 0; k < src->n_tranches; k++) {
        d->tranches[k] = src->tranches[k];
        d->tranches[k].name = dup_text(src->tranches[k].name, ok);
        d->tranches[k].target = dup_array(src->tranches[k].target, periods,
                                          sizeof(double), ok);
        d->tranches[k].coupon_steps = dup_array(
            src->tranches[k].coupon_steps, (size_t)src->tranches[k].n_coupon_steps,
            sizeof(ipabs_coupon_step), ok);
        if (d->tranches[k].coupon_steps == NULL)
            d->tranches[k].n_coupon_steps = 0;
        d->tranches[k].puts = dup_array(src->tranches[k].puts,
                                        (size_t)src->tranches[k].n_puts,
                                        sizeof(ipabs_put), ok);
        if (d->tranches[k].puts == NULL)
            d->tranches[k].n_puts = 0;
        d->tranches[k].coupon_at = NULL;
    }
}

static void copy_expenses(ipabs_deal *d, const ipabs_deal *src, bool *ok)
{
    if (src->n_expenses <= 0)
        return;
    d->expenses = calloc((size_t)src->n_expenses, sizeof *d->expenses);
    if (d->expenses == NULL) {
        *ok = false;
        return;
    }
    d->n_expenses = src->n_expenses;
    for (int e = 0; e < src->n_expenses; e++) {
        d->expenses[e] = src->expenses[e];
        d->expenses[e].name = dup_text(src->expenses[e].name, ok);
    }
}

static void copy_curves(ipabs_model *m, const ipabs_model *src, bool *ok)
{
    if (src->n_curves <= 0)
        return;
    m->curves = calloc((size_t)src->n_curves, sizeof *m->curves);
    if (m->curves == NULL) {
        *ok = false;
        return;
    }
    m->n_curves = src->n_curves;
    for (int i = 0; i < src->n_curves; i++) {
        m->curves[i].n = src->curves[i].n;
        m->curves[i].name = dup_text(src->curves[i].name, ok);
        m->curves[i].cum_pd = dup_array(src->curves[i].cum_pd,
                                        (size_t)src->curves[i].n, sizeof(double), ok);
    }
}

static void copy_calendar(ipabs_deal *d, const ipabs_deal *src, bool *ok)
{
    d->holidays = dup_array(src->holidays, (size_t)src->n_holidays,
                            sizeof(ipabs_date), ok);
    if (d->holidays != NULL)
        d->n_holidays = src->n_holidays;
    d->workdays = dup_array(src->workdays, (size_t)src->n_workdays,
                            sizeof(ipabs_date), ok);
    if (d->workdays != NULL)
        d->n_workdays = src->n_workdays;
    d->call_periods = dup_array(src->call_periods, (size_t)src->n_call_periods,
                                sizeof(int), ok);
    if (d->call_periods != NULL)
        d->n_call_periods = src->n_call_periods;
}

static void copy_model(ipabs_model *m, const ipabs_model *src, bool *ok)
{
    m->sector_names = dup_strings(src->sector_names, src->n_sectors, ok);
    m->sector_loading = dup_array(src->sector_loading, (size_t)src->n_sectors,
                                  sizeof(double), ok);
    if (m->sector_names != NULL)
        m->n_sectors = src->n_sectors;
    m->rating_names = dup_strings(src->rating_names, src->n_ratings, ok);
    m->rating_pd = dup_array(src->rating_pd, (size_t)src->n_ratings,
                             sizeof(double), ok);
    if (m->rating_names != NULL)
        m->n_ratings = src->n_ratings;
    copy_curves(m, src, ok);
}

static void copy_rating(ipabs_rating_terms *r, const ipabs_rating_terms *src,
                        bool *ok)
{
    r->timings = dup_array(src->timings, (size_t)src->n_timings,
                           sizeof *src->timings, ok);
    r->n_timings = r->timings != NULL ? src->n_timings : 0;
    r->recovery_multipliers = dup_array(src->recovery_multipliers,
                                        (size_t)src->n_recovery_multipliers,
                                        sizeof(double), ok);
    r->n_recovery_multipliers =
        r->recovery_multipliers != NULL ? src->n_recovery_multipliers : 0;
    r->recovery_delays = dup_array(src->recovery_delays,
                                   (size_t)src->n_recovery_delays, sizeof(int), ok);
    r->n_recovery_delays = r->recovery_delays != NULL ? src->n_recovery_delays : 0;
    r->grade_names = dup_strings(src->grade_names, src->n_grades, ok);
    r->grade_prob = dup_array(src->grade_prob,
                              (size_t)src->n_grades * (size_t)src->n_tenors,
                              sizeof(double), ok);
    r->n_grades = r->grade_names != NULL ? src->n_grades : 0;
}

/* ---- entry point ------------------------------------------------------------ */

static ipabs_status check_from(const ipabs_deal *src, const int *from, int n,
                               ipabs_error *err)
{
    if (from == NULL)
        return IPABS_OK;
    if (n < 1)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "a deal copy needs at least one loan (got %d)", n);
    for (int j = 0; j < n; j++)
        if (from[j] < 0 || from[j] >= src->n_loans)
            return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                                   "deal copy: loan %d is copied from loan %d, "
                                   "outside 0..%d", j, from[j], src->n_loans - 1);
    return IPABS_OK;
}

ipabs_status ipabs_deal_copy(const ipabs_deal *src, const int *from,
                             int n_loans, ipabs_deal **out, ipabs_error *err)
{
    *out = NULL;
    ipabs_status s = check_from(src, from, n_loans, err);
    if (s != IPABS_OK)
        return s;
    ipabs_deal *d = malloc(sizeof *d);
    if (d == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory copying the deal");
    *d = *src;
    clear_owned(d);
    bool ok = true;
    d->name = dup_text(src->name, &ok);
    d->currency = dup_text(src->currency, &ok);
    d->source_file = dup_text(src->source_file, &ok);
    d->tape_file = dup_text(src->tape_file, &ok);
    d->guarantor.name = dup_text(src->guarantor.name, &ok);
    d->guarantor.rating = dup_text(src->guarantor.rating, &ok);
    copy_loans(d, src, from, from != NULL ? n_loans : src->n_loans, &ok);
    copy_tranches(d, src, &ok);
    copy_expenses(d, src, &ok);
    copy_model(&d->model, &src->model, &ok);
    copy_rating(&d->rating, &src->rating, &ok);
    copy_calendar(d, src, &ok);
    copy_orders(d, src, &ok);
    if (!ok) {
        ipabs_deal_free(d);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory copying the deal");
    }
    *out = d;
    return IPABS_OK;
}
