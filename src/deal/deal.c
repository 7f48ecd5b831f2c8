/*
 * deal.c — allocation, freeing and finalisation of the immutable deal.
 *
 * ipabs_deal_finalize() turns the validated terms into everything the
 * waterfall needs precomputed: payment dates, accrual fractions and each
 * loan's scheduled balance, interest and amortisation by period.
 */
#include "ipabs/deal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ipabs_deal *ipabs_deal_alloc(void)
{
    ipabs_deal *deal = calloc(1, sizeof *deal);
    if (deal == NULL)
        return NULL;
    deal->frequency = 4;
    deal->pay_every = 1;
    deal->daycount = IPABS_DAYCOUNT_30_360;
    deal->loan_daycount = IPABS_DAYCOUNT_30_360;
    deal->business_day = IPABS_BDAY_UNADJUSTED;
    deal->guarantor.capacity = INFINITY;
    deal->guarantor.topup = true;
    deal->guarantor.payout_style = IPABS_PAYOUT_ACCELERATED;
    deal->guarantor.ip_pledgee = IPABS_PLEDGEE_GUARANTOR;
    deal->guarantor.reimbursement = IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL;
    deal->triggers.cdr_threshold = INFINITY;
    deal->principal_covers_revenue = true;
    deal->model.copula = IPABS_COPULA_GAUSSIAN;
    deal->model.pd_multiplier = 1.0;
    deal->model.df = 4.0;
    deal->simulation.paths = 100000;
    deal->simulation.seed = 20261127u;
    return deal;
}

static void free_strings(char **v, int n)
{
    if (v == NULL)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void loan_free(ipabs_loan *l)
{
    free(l->id);
    free(l->firm);
    free(l->sector);
    free(l->rating);
    free(l->pd_curve);
    free(l->ip_type);
    free(l->balance);
    free(l->interest);
    free(l->amortisation);
    free(l->prepayment);
    free(l->schedule);
}

static void model_free(ipabs_model *m)
{
    free_strings(m->sector_names, m->n_sectors);
    free(m->sector_loading);
    free_strings(m->rating_names, m->n_ratings);
    free(m->rating_pd);
    for (int i = 0; i < m->n_curves; i++) {
        free(m->curves[i].name);
        free(m->curves[i].cum_pd);
    }
    free(m->curves);
}

static void rating_free(ipabs_rating_terms *r)
{
    free(r->timings);
    free(r->recovery_multipliers);
    free(r->recovery_delays);
    free_strings(r->grade_names, r->n_grades);
    free(r->grade_prob);
}

void ipabs_deal_free(ipabs_deal *deal)
{
    if (deal == NULL)
        return;
    for (int i = 0; i < deal->n_loans; i++)
        loan_free(&deal->loans[i]);
    free(deal->loans);
    for (int i = 0; i < deal->n_tranches; i++) {
        free(deal->tranches[i].name);
        free(deal->tranches[i].target);
        free(deal->tranches[i].coupon_steps);
        free(deal->tranches[i].coupon_at);
        free(deal->tranches[i].puts);
    }
    free(deal->call_periods);
    free(deal->tranches);
    for (int o = 0; o < IPABS_N_POPS; o++) {
        free(deal->pop[o].steps);
        free(deal->pop[o].classes);
    }
    for (int i = 0; i < deal->n_expenses; i++)
        free(deal->expenses[i].name);
    free(deal->expenses);
    free(deal->guarantor.name);
    free(deal->guarantor.rating);
    model_free(&deal->model);
    rating_free(&deal->rating);
    free(deal->name);
    free(deal->currency);
    free(deal->source_file);
    free(deal->tape_file);
    free(deal->holidays);
    free(deal->workdays);
    free(deal->dates);
    free(deal->accrual_dates);
    for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++) {
        free(deal->accrual_dc[dc]); /* deal->accrual is one of them */
        free(deal->pay_accrual_dc[dc]);
    }
    free(deal->pool_interest);
    free(deal->pool_principal);
    free(deal->pool_agency_fee);
    free(deal->pool_servicing_fee);
    free(deal->pool_guarantee_fee);
    free(deal->loans_running_after);
    free(deal->loan_period);
    free(deal->loan_hot);
    free(deal);
}

/* ---- dates ---------------------------------------------------------------- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

ipabs_date ipabs_date_add_months(ipabs_date d, int months)
{
    int m0 = d.year * 12 + (d.month - 1) + months;
    ipabs_date r = {m0 / 12, m0 % 12 + 1, d.day};
    int dim = days_in_month(r.year, r.month);
    if (r.day > dim)
        r.day = dim;
    return r;
}

/* Days since 0000-03-01 in the proleptic Gregorian calendar. */
static long day_number(ipabs_date d)
{
    long y = d.year, m = d.month;
    if (m <= 2) {
        y -= 1;
        m += 12;
    }
    return 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 +
           d.day - 1;
}

long ipabs_date_days_between(ipabs_date from, ipabs_date to)
{
    return day_number(to) - day_number(from);
}

/* 0000-03-01 was a Wednesday, and 400 Gregorian years are whole weeks. */
int ipabs_date_weekday(ipabs_date d)
{
    return (int)((day_number(d) + 2) % 7);
}

int ipabs_date_compare(ipabs_date a, ipabs_date b)
{
    long x = day_number(a), y = day_number(b);
    return (x > y) - (x < y);
}

static bool date_listed(const ipabs_date *v, int n, ipabs_date d)
{
    int lo = 0, hi = n - 1; /* v sorted ascending */
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = ipabs_date_compare(v[mid], d);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return false;
}

bool ipabs_deal_is_business_day(const ipabs_deal *deal, ipabs_date d)
{
    if (ipabs_date_weekday(d) >= 5)
        return date_listed(deal->workdays, deal->n_workdays, d);
    return !date_listed(deal->holidays, deal->n_holidays, d);
}

static ipabs_date add_days(ipabs_date d, int days)
{
    long target = day_number(d) + days;
    /* Step through months: dates move by a few days at most here. */
    while (day_number(d) < target) {
        if (++d.day > days_in_month(d.year, d.month)) {
            d.day = 1;
            if (++d.month > 12)
                d.month = 1, d.year++;
        }
    }
    while (day_number(d) > target) {
        if (--d.day < 1) {
            if (--d.month < 1)
                d.month = 12, d.year--;
            d.day = days_in_month(d.year, d.month);
        }
    }
    return d;
}

/* A calendar file lists at most a few thousand days, so a run of
 * non-business days is short; 400 days is far beyond any real one and
 * only stops a calendar that lists every day as a holiday. */
enum { MAX_CLOSED_RUN = 400 };

static ipabs_date roll(const ipabs_deal *deal, ipabs_date d, int dir)
{
    for (int i = 0; i < MAX_CLOSED_RUN && !ipabs_deal_is_business_day(deal, d); i++)
        d = add_days(d, dir);
    return d;
}

ipabs_date ipabs_deal_adjust(const ipabs_deal *deal, ipabs_date d)
{
    switch (deal->business_day) {
    case IPABS_BDAY_UNADJUSTED:
        return d;
    case IPABS_BDAY_FOLLOWING:
        return roll(deal, d, +1);
    case IPABS_BDAY_MODIFIED_FOLLOWING: {
        ipabs_date f = roll(deal, d, +1);
        return f.month == d.month ? f : roll(deal, d, -1);
    }
    case IPABS_BDAY_PRECEDING:
        return roll(deal, d, -1);
    }
    return d;
}

void ipabs_date_format(ipabs_date d, char *buf)
{
    unsigned y = (unsigned)d.year % 10000u, m = (unsigned)d.month % 100u,
             day = (unsigned)d.day % 100u;
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + day / 10);
    buf[9] = (char)('0' + day % 10);
    buf[10] = '\0';
}

bool ipabs_date_parse(const char *text, ipabs_date *out)
{
    int y, m, d;
    char tail;
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 ||
        d > days_in_month(y, m))
        return false;
    out->year = y;
    out->month = m;
    out->day = d;
    return true;
}

double ipabs_daycount_fraction(ipabs_daycount dc, ipabs_date from,
                               ipabs_date to)
{
    switch (dc) {
    case IPABS_DAYCOUNT_30_360: {
        /* 30/360 bond basis (ISDA 2006 4.16(f)). */
        int d1 = from.day == 31 ? 30 : from.day;
        int d2 = (to.day == 31 && d1 == 30) ? 30 : to.day;
        return (360.0 * (to.year - from.year) + 30.0 * (to.month - from.month) +
                (d2 - d1)) / 360.0;
    }
    case IPABS_DAYCOUNT_ACT_365F:
        return (double)ipabs_date_days_between(from, to) / 365.0;
    case IPABS_DAYCOUNT_ACT_360:
        return (double)ipabs_date_days_between(from, to) / 360.0;
    }
    return 0.0;
}

/* ---- calendar -------------------------------------------------------------- */

/* An instrument without a day count of its own takes the deal's (loans:
 * loans.day_count, itself deal.day_count unless given). */
static void resolve_daycounts(ipabs_deal *deal)
{
    if (!deal->loan_daycount_given)
        deal->loan_daycount = deal->daycount;
    for (int i = 0; i < deal->n_loans; i++)
        if (!deal->loans[i].daycount_given)
            deal->loans[i].daycount = deal->loan_daycount;
    for (int k = 0; k < deal->n_tranches; k++)
        if (!deal->tranches[k].daycount_given)
            deal->tranches[k].daycount = deal->daycount;
    for (int e = 0; e < deal->n_expenses; e++)
        if (!deal->expenses[e].daycount_given)
            deal->expenses[e].daycount = deal->daycount;
}

/* The accrual fraction of every payment period, between the unadjusted
 * dates of the previous payment date and this one: the classes and
 * expenses accrue over the payment period as one span (ACT counts its
 * days; 30/360 its months), not as a sum of the collection periods'
 * fractions.  With one grid it is the period's own fraction. */
static void pay_accruals(ipabs_deal *deal)
{
    int m = deal->pay_every;
    for (int t = m; t <= deal->legal_final; t += m)
        for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++)
            deal->pay_accrual_dc[dc][t] = ipabs_daycount_fraction(
                (ipabs_daycount)dc, deal->accrual_dates[t - m], deal->accrual_dates[t]);
}

/* The two grids agree: payment dates every pay_every collection periods,
 * the last one the legal final, a transfer lag within a payment period. */
static ipabs_status check_grids(ipabs_deal *deal, ipabs_error *err)
{
    if (deal->pay_every < 1)
        deal->pay_every = 1;
    if (deal->payment_frequency <= 0)
        deal->payment_frequency = deal->frequency / deal->pay_every;
    int m = deal->pay_every;
    if (deal->payment_frequency * m != deal->frequency || deal->legal_final % m != 0 ||
        deal->transfer_lag < 0 || deal->transfer_lag >= m)
        return ipabs_error_set(err, IPABS_EINPUT, deal->source_file, 0, 0, "loans.frequency",
                               "%d collection periods a year do not make %d payment "
                               "periods a year of %d each with a legal final of %d "
                               "and a transfer lag of %d", deal->frequency,
                               deal->payment_frequency, m, deal->legal_final,
                               deal->transfer_lag);
    return IPABS_OK;
}

/* Payment dates (closing plus t x 12/f months, end-of-month rule, then the
 * business-day rule), the unadjusted dates accruals run between (a payment
 * moved to a business day earns no extra interest: 顺延期间不另计息), and
 * the accrual fractions under every day count. */
static ipabs_status build_calendar(ipabs_deal *deal, ipabs_error *err)
{
    size_t n = (size_t)deal->legal_final + 1;
    deal->dates = calloc(n, sizeof *deal->dates);
    deal->accrual_dates = calloc(n, sizeof *deal->accrual_dates);
    bool ok = deal->dates && deal->accrual_dates;
    for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++) {
        ok = (deal->accrual_dc[dc] = calloc(n, sizeof(double))) != NULL && ok;
        ok = (deal->pay_accrual_dc[dc] = calloc(n, sizeof(double))) != NULL && ok;
    }
    if (!ok)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building the payment calendar");
    int step = 12 / deal->frequency;
    /* End-of-month rule: a closing on a month's last day pays on last days. */
    bool eom = deal->closing.day == days_in_month(deal->closing.year, deal->closing.month);
    deal->dates[0] = deal->accrual_dates[0] = deal->closing;
    for (size_t t = 1; t < n; t++) {
        ipabs_date u = ipabs_date_add_months(deal->closing, (int)t * step);
        if (eom)
            u.day = days_in_month(u.year, u.month);
        deal->accrual_dates[t] = u;
        deal->dates[t] = ipabs_deal_adjust(deal, u);
        for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++)
            deal->accrual_dc[dc][t] = ipabs_daycount_fraction(
                (ipabs_daycount)dc, deal->accrual_dates[t - 1], u);
    }
    deal->accrual = deal->accrual_dc[deal->daycount];
    pay_accruals(deal);
    return IPABS_OK;
}

/* ---- schedules ------------------------------------------------------------ */

/* Principal due in period t (1-based) with no prepayment, given the
 * opening balance of that schedule.  The grace periods pay interest only;
 * level principal and annuity then amortise over term - grace periods. */
static double scheduled_principal(const ipabs_loan *l, int f, int t,
                                  double opening)
{
    if (t > l->term)
        return 0.0;
    if (t == l->term)
        return opening;
    if (t <= l->grace_periods)
        return 0.0;
    int n = l->term - l->grace_periods;
    switch (l->amort) {
    case IPABS_LOAN_BULLET:
        return 0.0;
    case IPABS_LOAN_LEVEL_PRINCIPAL:
        return l->principal / n;
    case IPABS_LOAN_ANNUITY: {
        double j = l->rate / f;
        if (j == 0.0)
            return l->principal / n;
        double payment = l->principal * j / (1.0 - pow(1.0 + j, -n));
        return payment - j * opening;
    }
    case IPABS_LOAN_SCHEDULE:
        /* The shares sum to 1 only to rounding: never past the balance. */
        return fmin(l->principal * l->schedule[t], opening);
    }
    return 0.0;
}

/* Single monthly mortality of a constant annual prepayment rate over one
 * period of a deal paying f times a year. */
double ipabs_prepayment_smm(double cpr, int f)
{
    return cpr > 0.0 ? 1.0 - pow(1.0 - cpr, 1.0 / f) : 0.0;
}

/* The loan's balance, interest and principal by period.  Prepayment is a
 * constant share (the SMM) of the balance left after each period's
 * scheduled principal, in every period but the last; it shrinks every
 * later instalment in proportion (the schedule keeps its shape), so with
 * survival q(t) = (1 - SMM)^t the balance is q(t) times the balance of the
 * schedule without prepayment (docs/scenario-format.md gives the closed
 * forms the tests check). */
static ipabs_status loan_schedule(ipabs_loan *l, const ipabs_deal *deal,
                                  ipabs_error *err)
{
    int n = deal->legal_final + 1;
    l->balance = calloc((size_t)n, sizeof(double));
    l->interest = calloc((size_t)n, sizeof(double));
    l->amortisation = calloc((size_t)n, sizeof(double));
    l->prepayment = calloc((size_t)n, sizeof(double));
    if (!l->balance || !l->interest || !l->amortisation || !l->prepayment)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building loan schedules");
    /* A loan repaid before its term would "default" with nothing exposed. */
    if (l->amort == IPABS_LOAN_SCHEDULE && (l->schedule == NULL || !(l->schedule[l->term] > 0.0)))
        return ipabs_error_set(err, IPABS_EINPUT, deal->tape_file, l->tape_line, 0,
                               "amortisation",
                               "loan %s: an explicit schedule must repay principal "
                               "in the loan's last period (term %d)", l->id, l->term);
    const double *d = deal->accrual_dc[l->daycount];
    double smm = ipabs_prepayment_smm(l->cpr, deal->frequency);
    double plain = l->principal; /* balance of the schedule without prepayment */
    double q = 1.0;              /* survival from prepayment so far */
    l->balance[0] = l->principal;
    for (int t = 1; t < n; t++) {
        double open = l->balance[t - 1];
        double due = scheduled_principal(l, deal->frequency, t, plain);
        double p = q * due;
        l->interest[t] = open * l->rate * d[t];
        plain = t >= l->term ? 0.0 : plain - due;
        double after = t >= l->term ? 0.0 : open - p;
        double prepaid = t < l->term ? smm * after : 0.0;
        l->prepayment[t] = prepaid;
        l->amortisation[t] = p + prepaid;
        l->balance[t] = after - prepaid;
        q *= 1.0 - (t < l->term ? smm : 0.0);
    }
    return IPABS_OK;
}

/* The coupon of every period: the initial coupon, changed by each step
 * from its period on and by each put's reset from the period after the
 * put (both validated in increasing period order, never on the same
 * period). */
static ipabs_status tranche_coupons(ipabs_tranche *tr, const ipabs_deal *deal,
                                    ipabs_error *err)
{
    tr->coupon_at = calloc((size_t)deal->legal_final + 1, sizeof(double));
    if (tr->coupon_at == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building coupon schedules");
    int j = 0, q = 0;
    double coupon = tr->coupon;
    for (int t = 0; t <= deal->legal_final; t++) {
        while (j < tr->n_coupon_steps && tr->coupon_steps[j].period <= t)
            coupon = tr->coupon_steps[j++].coupon;
        for (; q < tr->n_puts && tr->puts[q].period + 1 <= t; q++)
            if (tr->puts[q].reset)
                coupon = tr->puts[q].coupon;
        tr->coupon_at[t] = coupon;
    }
    return IPABS_OK;
}

static ipabs_status tranche_targets(ipabs_tranche *tr, const ipabs_deal *deal,
                                    ipabs_error *err)
{
    if (tr->amort != IPABS_TRANCHE_SCHEDULED)
        return IPABS_OK;
    if (tr->target == NULL)
        return ipabs_error_set(err, IPABS_EINPUT, deal->source_file, 0, 0,
                               tr->name,
                               "a scheduled tranche needs a target schedule");
    return IPABS_OK;
}

/* Fees must come out of interest: a loan whose rate cannot carry the bank
 * and servicing fees would pay the plan negative interest. */
static ipabs_status check_fees(const ipabs_deal *deal, ipabs_error *err)
{
    double fees = deal->bank_fee_rate + deal->servicing_fee_rate;
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        if (l->rate < fees)
            return ipabs_error_set(
                err, IPABS_EINPUT, deal->tape_file, l->tape_line, 0, "rate",
                "loan %s: rate %.6g is below the bank and servicing fees "
                "(%.6g together); fees are paid out of interest",
                l->id, l->rate, fees);
    }
    return IPABS_OK;
}

/* The distinct recovery lags of the loans, longest first, or none listed
 * when there are more than IPABS_RECOVERY_LAG_RUNS (deal.h). */
static void recovery_lags(ipabs_deal *deal)
{
    int n = 0;
    for (int i = 0; i < deal->n_loans && n >= 0; i++) {
        int lag = deal->loans[i].recovery_lag, j = 0;
        while (j < n && deal->recovery_lags[j] > lag)
            j++;
        if (j < n && deal->recovery_lags[j] == lag)
            continue;
        if (n == IPABS_RECOVERY_LAG_RUNS) {
            n = -1;
            break;
        }
        memmove(&deal->recovery_lags[j + 1], &deal->recovery_lags[j],
                (size_t)(n - j) * sizeof(int));
        deal->recovery_lags[j] = lag;
        n++;
    }
    deal->n_recovery_lags = n > 0 ? n : 0;
}

static ipabs_status pool_totals(ipabs_deal *deal, ipabs_error *err)
{
    size_t n = (size_t)deal->legal_final + 1;
    double **arrays[] = {&deal->pool_interest, &deal->pool_principal,
                         &deal->pool_agency_fee, &deal->pool_servicing_fee,
                         &deal->pool_guarantee_fee};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
        *arrays[k] = calloc(n, sizeof(double));
        if (*arrays[k] == NULL)
            return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                                   "out of memory building pool totals");
    }
    deal->loans_running_after = calloc(n, sizeof(int));
    if (deal->loans_running_after == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building pool totals");
    size_t loans = (size_t)deal->n_loans > 0 ? (size_t)deal->n_loans : 1;
    deal->loan_period = calloc(loans * n, sizeof *deal->loan_period);
    deal->loan_hot = calloc(loans, sizeof *deal->loan_hot);
    if (deal->loan_period == NULL || deal->loan_hot == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building the loans' tables");
    recovery_lags(deal);
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        deal->loan_hot[i] = (ipabs_loan_hot){l->term, l->recovery_lag,
                                             l->guarantee_fee_rate, l->ip_value,
                                             l->disposal_cost};
        for (int t = 0; t < l->term; t++)
            deal->loans_running_after[t]++;
        for (int t = 1; t <= l->term; t++) {
            double base = l->balance[t - 1] * deal->accrual_dc[l->daycount][t];
            deal->loan_period[(size_t)i * n + (size_t)t] =
                (ipabs_loan_period){l->balance[t - 1], l->interest[t],
                                    l->amortisation[t], base};
            deal->pool_interest[t] += l->interest[t];
            deal->pool_principal[t] += l->amortisation[t];
            deal->pool_agency_fee[t] += base * deal->bank_fee_rate;
            deal->pool_servicing_fee[t] += base * deal->servicing_fee_rate;
            deal->pool_guarantee_fee[t] += base * l->guarantee_fee_rate;
        }
    }
    return IPABS_OK;
}

/* ---- the built-in priority of payments ------------------------------------ */

static void pop_add(ipabs_pop *p, ipabs_pop_op op, int index, int first, int n)
{
    ipabs_pop_step *st = &p->steps[p->n_steps++];
    *st = (ipabs_pop_step){op, index, p->n_classes, n};
    for (int k = first; k < first + n; k++)
        p->classes[p->n_classes++] = k;
}

/* The order of docs/waterfall.md, step 8, used when the scenario states
 * none: taxes, expenses, senior interest pro rata, [reimbursement],
 * deficiency, senior principal sequentially, [reimbursement], reserve, each
 * sub's interest, sub principal, [reimbursement], residual.  The three
 * reimbursement steps stand for guarantor.topup_reimbursement's positions;
 * the one the deal chose is taken at run time. */
static ipabs_status build_default_order(ipabs_deal *deal, ipabs_pop *p,
                                        ipabs_error *err)
{
    int n_sub = deal->n_tranches - deal->n_senior;
    size_t steps = (size_t)deal->n_expenses + (size_t)n_sub + 10;
    free(p->steps);
    free(p->classes);
    *p = (ipabs_pop){0};
    p->steps = malloc(steps * sizeof *p->steps);
    p->classes = malloc(2 * (size_t)deal->n_tranches * sizeof *p->classes);
    if (p->steps == NULL || p->classes == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building the priority of payments");
    pop_add(p, IPABS_POP_TAXES, 0, 0, 0);
    for (int e = 0; e < deal->n_expenses; e++)
        pop_add(p, IPABS_POP_EXPENSE, e, 0, 0);
    pop_add(p, IPABS_POP_INTEREST, 0, 0, deal->n_senior);
    pop_add(p, IPABS_POP_REIMBURSEMENT, IPABS_REIMBURSE_AFTER_SENIOR_INTEREST, 0, 0);
    pop_add(p, IPABS_POP_DEFICIENCY, 0, 0, 0);
    pop_add(p, IPABS_POP_PRINCIPAL, 0, 0, deal->n_senior);
    pop_add(p, IPABS_POP_REIMBURSEMENT, IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL, 0, 0);
    pop_add(p, IPABS_POP_RESERVE, 0, 0, 0);
    for (int k = deal->n_senior; k < deal->n_tranches; k++)
        pop_add(p, IPABS_POP_INTEREST, 0, k, 1);
    pop_add(p, IPABS_POP_PRINCIPAL, 0, deal->n_senior, n_sub);
    pop_add(p, IPABS_POP_REIMBURSEMENT, IPABS_REIMBURSE_BEFORE_RESIDUAL, 0, 0);
    pop_add(p, IPABS_POP_RESIDUAL, 0, 0, 0);
    return IPABS_OK;
}

/* Orders not given: the normal one is built in; after an acceleration
 * event, the normal order (the events change what each step wants, not the
 * order); after an event of default, the post-acceleration order. */
static ipabs_status build_orders(ipabs_deal *deal, ipabs_error *err)
{
    if (!deal->pop_given[IPABS_POP_NORMAL]) {
        ipabs_status s = build_default_order(deal, &deal->pop[IPABS_POP_NORMAL], err);
        if (s != IPABS_OK)
            return s;
    }
    for (int o = 1; o < IPABS_N_POPS; o++) {
        if (deal->pop_given[o])
            continue;
        ipabs_pop *to = &deal->pop[o];
        const ipabs_pop *from = &deal->pop[o - 1];
        free(to->steps);
        free(to->classes);
        to->n_steps = from->n_steps;
        to->n_classes = from->n_classes;
        to->steps = malloc(((size_t)from->n_steps + 1) * sizeof *to->steps);
        to->classes = malloc(((size_t)from->n_classes + 1) * sizeof *to->classes);
        if (to->steps == NULL || to->classes == NULL)
            return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                                   "out of memory building the priority of payments");
        memcpy(to->steps, from->steps, (size_t)from->n_steps * sizeof *to->steps);
        memcpy(to->classes, from->classes, (size_t)from->n_classes * sizeof *to->classes);
    }
    return IPABS_OK;
}

/* Add x to the compensated sum (*sum, *carry) (Neumaier): the pool balance
 * is the tape's total to the last bit whatever the number of loans (summed
 * one by one, 20,000 loans of CNY 8,964,877.18 came out 0.09 yuan short,
 * issue 13); scenario.c sums the tranche check the same way. */
static void add_compensated(double *sum, double *carry, double x)
{
    double t = *sum + x;
    *carry += fabs(*sum) >= fabs(x) ? (*sum - t) + x : (x - t) + *sum;
    *sum = t;
}

ipabs_status ipabs_deal_finalize(ipabs_deal *deal, ipabs_error *err)
{
    ipabs_status s0 = check_fees(deal, err);
    if (s0 != IPABS_OK)
        return s0;
    resolve_daycounts(deal);
    ipabs_status s1 = check_grids(deal, err);
    if (s1 == IPABS_OK)
        s1 = build_calendar(deal, err);
    if (s1 != IPABS_OK)
        return s1;
    double pool = 0.0, carry = 0.0;
    for (int i = 0; i < deal->n_loans; i++) {
        ipabs_status s = loan_schedule(&deal->loans[i], deal, err);
        if (s != IPABS_OK)
            return s;
        add_compensated(&pool, &carry, deal->loans[i].principal);
    }
    deal->pool_balance = pool + carry;
    deal->n_senior = 0;
    for (int k = 0; k < deal->n_tranches; k++) {
        ipabs_status s = tranche_targets(&deal->tranches[k], deal, err);
        if (s == IPABS_OK)
            s = tranche_coupons(&deal->tranches[k], deal, err);
        if (s != IPABS_OK)
            return s;
        if (deal->tranches[k].cls == IPABS_CLASS_SENIOR)
            deal->n_senior = k + 1;
    }
    s0 = build_orders(deal, err);
    if (s0 != IPABS_OK)
        return s0;
    return pool_totals(deal, err);
}

int ipabs_deal_find_loan(const ipabs_deal *deal, const char *id)
{
    for (int i = 0; i < deal->n_loans; i++)
        if (strcmp(deal->loans[i].id, id) == 0)
            return i;
    return -1;
}

int ipabs_deal_find_tranche(const ipabs_deal *deal, const char *name)
{
    for (int k = 0; k < deal->n_tranches; k++)
        if (strcmp(deal->tranches[k].name, name) == 0)
            return k;
    return -1;
}

const char *ipabs_loan_amort_name(ipabs_loan_amort a)
{
    switch (a) {
    case IPABS_LOAN_BULLET:
        return "bullet";
    case IPABS_LOAN_LEVEL_PRINCIPAL:
        return "level_principal";
    case IPABS_LOAN_ANNUITY:
        return "annuity";
    case IPABS_LOAN_SCHEDULE:
        return "schedule";
    }
    return "?";
}

const char *ipabs_tranche_amort_name(ipabs_tranche_amort a)
{
    switch (a) {
    case IPABS_TRANCHE_PASS_THROUGH:
        return "pass_through";
    case IPABS_TRANCHE_SCHEDULED:
        return "scheduled";
    case IPABS_TRANCHE_BULLET:
        return "bullet";
    }
    return "?";
}

const char *ipabs_daycount_name(ipabs_daycount dc)
{
    switch (dc) {
    case IPABS_DAYCOUNT_30_360:
        return "30/360";
    case IPABS_DAYCOUNT_ACT_365F:
        return "ACT/365F";
    case IPABS_DAYCOUNT_ACT_360:
        return "ACT/360";
    }
    return "?";
}
