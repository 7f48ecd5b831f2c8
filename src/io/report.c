/*
 * report.c — files and tables for one realisation, and the deal summary.
 */
#include "ipabs/report.h"

#include <math.h>
#include <string.h>

#include "ipabs/csvout.h"

static void date_cell(ipabs_csv_out *w, const ipabs_deal *deal, int t)
{
    char buf[11];
    ipabs_date_format(deal->dates[t], buf);
    ipabs_csv_text(w, buf);
}

static ipabs_status write_ledger(const ipabs_deal *deal, const ipabs_ledger *lg,
                                 const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "ledger.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {"period", "date", "payer", "payee", "kind",
                                       "loan_id", "tranche", "amount", NULL};
    ipabs_csv_header(&w, head);
    for (size_t i = 0; i < lg->count; i++) {
        const ipabs_ledger_entry *e = &lg->entries[i];
        ipabs_csv_int(&w, e->period);
        date_cell(&w, deal, e->period);
        ipabs_csv_text(&w, ipabs_party_name(deal, e->payer));
        ipabs_csv_text(&w, ipabs_party_name(deal, e->payee));
        ipabs_csv_text(&w, ipabs_flow_kind_name(e->kind));
        ipabs_csv_text(&w, e->loan >= 0 ? deal->loans[e->loan].id : "");
        ipabs_csv_text(&w, e->tranche >= 0 ? deal->tranches[e->tranche].name : "");
        ipabs_csv_num(&w, e->amount, 6);
        ipabs_csv_end_row(&w);
    }
    return ipabs_csv_commit(&w, err);
}

static ipabs_status write_tranches(const ipabs_deal *deal, const ipabs_cashflow *cf,
                                   const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "tranches.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    static const char *const head[] = {
        "period", "date", "tranche", "opening_balance", "interest_due", "interest_paid",
        "principal_paid", "closing_balance", "principal_loss", NULL};
    ipabs_csv_header(&w, head);
    for (int t = 1; t <= cf->n_periods; t++) {
        const ipabs_period_flows *fl = &cf->periods[t - 1];
        for (int k = 0; k < deal->n_tranches; k++) {
            ipabs_csv_int(&w, t);
            date_cell(&w, deal, t);
            ipabs_csv_text(&w, deal->tranches[k].name);
            ipabs_csv_num(&w, fl->balance_open[k], 6);
            ipabs_csv_num(&w, fl->interest_due[k], 6);
            ipabs_csv_num(&w, fl->interest_paid[k], 6);
            ipabs_csv_num(&w, fl->principal_paid[k], 6);
            ipabs_csv_num(&w, fl->balance_close[k], 6);
            ipabs_csv_num(&w, fl->principal_loss[k], 6);
            ipabs_csv_end_row(&w);
        }
    }
    return ipabs_csv_commit(&w, err);
}

static void period_header(ipabs_csv_out *w, const ipabs_deal *deal)
{
    static const char *const head[] = {
        "period", "date", "new_defaults", "cumulative_default_ratio",
        "interest_collected", "principal_collected", "agency_fee", "servicing_fee",
        "guarantee_fee", "guarantee_payout", "topup", "guarantor_owed_unpaid",
        "recovery_plan", "recovery_guarantor", "recovery_estate", "estate_recovery",
        "available", "tax", "expenses", "topup_reimbursement",
        "topup_reimbursement_estate", "cleanup_call", NULL};
    for (const char *const *h = head; *h != NULL; h++)
        ipabs_csv_text(w, *h);
    char name[160];
    for (int k = 0; k < deal->n_tranches; k++) {
        snprintf(name, sizeof name, "%s_interest", deal->tranches[k].name);
        ipabs_csv_text(w, name);
        snprintf(name, sizeof name, "%s_principal", deal->tranches[k].name);
        ipabs_csv_text(w, name);
    }
    ipabs_csv_text(w, "residual");
    ipabs_csv_text(w, "plan_cash");
    ipabs_csv_text(w, "accelerated");
    /* Split accounts (plan.accounts: split); zero with one account.  Last,
     * so that sheets reading the columns above by position still work. */
    static const char *const accounts[] = {
        "principal_account", "principal_deficiency", "reinvestment_income",
        "principal_to_revenue", "revenue_to_principal", NULL};
    for (const char *const *h = accounts; *h != NULL; h++)
        ipabs_csv_text(w, *h);
    /* The bank's and servicer's fees on the payouts' interest (issue 9). */
    ipabs_csv_text(w, "payout_fees");
    /* Calls and puts (docs/waterfall.md, "Puts and calls"), after those:
     * the originator's call price, the face put and not bought, and for
     * each class with a put what its supporter paid and received. */
    ipabs_csv_text(w, "call");
    ipabs_csv_text(w, "put_unfunded");
    static const char *const put_cols[] = {
        "put_redeemed", "put_bought", "put_resold", "held_interest",
        "held_principal", "held_loss", "held_balance", NULL};
    for (int k = 0; k < deal->n_tranches; k++) {
        for (const char *const *h = put_cols; *h != NULL && deal->tranches[k].n_puts > 0; h++) {
            snprintf(name, sizeof name, "%s_%s", deal->tranches[k].name, *h);
            ipabs_csv_text(w, name);
        }
    }
    ipabs_csv_end_row(w);
}

static void period_row(ipabs_csv_out *w, const ipabs_deal *deal,
                       const ipabs_period_flows *fl)
{
    ipabs_csv_int(w, fl->period);
    date_cell(w, deal, fl->period);
    ipabs_csv_int(w, fl->new_defaults);
    ipabs_csv_num(w, fl->cum_default_ratio, 10);
    const double amounts[] = {
        fl->interest_collected, fl->principal_collected, fl->agency_fee,
        fl->servicing_fee, fl->guarantee_fee, fl->guarantee_payout, fl->topup,
        fl->guarantor_owed_unpaid, fl->recovery_plan, fl->recovery_guarantor,
        fl->recovery_estate, fl->estate_recovery, fl->available, fl->tax_paid,
        fl->expenses_paid, fl->reimbursement, fl->reimbursement_estate,
        fl->cleanup_price};
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++)
        ipabs_csv_num(w, amounts[i], 6);
    for (int k = 0; k < deal->n_tranches; k++) {
        ipabs_csv_num(w, fl->interest_paid[k], 6);
        ipabs_csv_num(w, fl->principal_paid[k], 6);
    }
    ipabs_csv_num(w, fl->residual, 6);
    ipabs_csv_num(w, fl->plan_cash_close, 6);
    ipabs_csv_int(w, fl->accelerated);
    const double accounts[] = {fl->principal_account, fl->principal_deficiency,
                               fl->reinvestment_income, fl->principal_to_revenue,
                               fl->revenue_to_principal};
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++)
        ipabs_csv_num(w, accounts[i], 6);
    ipabs_csv_num(w, fl->payout_fees, 6);
    ipabs_csv_num(w, fl->call_price, 6);
    ipabs_csv_num(w, fl->put_unfunded, 6);
    for (int k = 0; k < deal->n_tranches; k++) {
        if (deal->tranches[k].n_puts == 0)
            continue;
        const double put[] = {fl->put_redeemed[k], fl->put_bought[k], fl->put_resold[k],
                              fl->held_interest[k], fl->held_principal[k],
                              fl->held_loss[k], fl->held_close[k]};
        for (size_t i = 0; i < sizeof put / sizeof put[0]; i++)
            ipabs_csv_num(w, put[i], 6);
    }
    ipabs_csv_end_row(w);
}

static ipabs_status write_periods(const ipabs_deal *deal, const ipabs_cashflow *cf,
                                  const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_csv_open(&w, dir, "periods.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    period_header(&w, deal);
    for (int t = 0; t < cf->n_periods; t++)
        period_row(&w, deal, &cf->periods[t]);
    return ipabs_csv_commit(&w, err);
}

ipabs_status ipabs_cashflow_write(const ipabs_deal *deal, const ipabs_cashflow *cf,
                                  const char *dir, bool bom, ipabs_error *err)
{
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s == IPABS_OK)
        s = write_ledger(deal, cf->ledger, dir, bom, err);
    if (s == IPABS_OK)
        s = write_tranches(deal, cf, dir, bom, err);
    if (s == IPABS_OK)
        s = write_periods(deal, cf, dir, bom, err);
    return s;
}

static void realisation_row(ipabs_csv_out *w, const ipabs_deal *deal,
                            const ipabs_realisation *real, int i, double latent,
                            double weight)
{
    const ipabs_loan *l = &deal->loans[i];
    int tau = real->default_period[i];
    bool defaulted = tau >= 1 && tau <= l->term;
    ipabs_csv_text(w, "loan");
    ipabs_csv_text(w, l->id);
    ipabs_csv_text(w, l->firm);
    if (defaulted) {
        ipabs_csv_int(w, tau);
        date_cell(w, deal, tau);
        ipabs_csv_num(w, l->balance[tau - 1] + l->interest[tau], 6);
        ipabs_csv_num(w, real->realisation[i], 10);
    } else {
        for (int c = 0; c < 4; c++)
            ipabs_csv_empty(w);
    }
    ipabs_csv_num(w, latent, 10);
    ipabs_csv_num(w, weight, -1);
    ipabs_csv_end_row(w);
}

ipabs_status ipabs_realisation_write(const ipabs_deal *deal,
                                     const ipabs_realisation *real,
                                     const ipabs_path_draws *draws,
                                     const char *dir, bool bom, ipabs_error *err)
{
    ipabs_csv_out w;
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s == IPABS_OK)
        s = ipabs_csv_open(&w, dir, "realisation.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    /* The path's likelihood ratio (importance sampling; 1 without it, empty
     * for a realisation given on the command line). */
    double weight = draws ? draws->weight : NAN;
    static const char *const head[] = {"party", "id", "name", "default_period",
                                       "default_date", "exposure_at_default",
                                       "realisation", "latent", "path_weight", NULL};
    ipabs_csv_header(&w, head);
    for (int i = 0; i < deal->n_loans; i++)
        realisation_row(&w, deal, real, i, draws ? draws->latent[i] : NAN, weight);
    ipabs_csv_text(&w, "guarantor");
    ipabs_csv_text(&w, "guarantor");
    ipabs_csv_text(&w, deal->guarantor.name);
    int tg = real->guarantor_default_period;
    if (tg > 0) {
        ipabs_csv_int(&w, tg);
        date_cell(&w, deal, tg);
    } else {
        ipabs_csv_empty(&w);
        ipabs_csv_empty(&w);
    }
    ipabs_csv_empty(&w);
    ipabs_csv_empty(&w);
    ipabs_csv_num(&w, draws ? draws->guarantor_latent : NAN, 10);
    ipabs_csv_num(&w, weight, -1);
    ipabs_csv_end_row(&w);
    return ipabs_csv_commit(&w, err);
}

void ipabs_cashflow_print(FILE *out, const ipabs_deal *deal, const ipabs_cashflow *cf)
{
    fprintf(out, "%-3s %-10s %3s %14s %14s %14s %12s %14s", "t", "date", "def",
            "collections", "g.payout", "top-up", "recovery", "expenses+tax");
    for (int k = 0; k < deal->n_tranches; k++)
        fprintf(out, " %14.14s", deal->tranches[k].name);
    fprintf(out, " %14s %s\n", "residual", "");
    for (int t = 0; t < cf->n_periods; t++) {
        const ipabs_period_flows *fl = &cf->periods[t];
        char date[11];
        ipabs_date_format(deal->dates[fl->period], date);
        fprintf(out, "%-3d %-10s %3d %14.2f %14.2f %14.2f %12.2f %14.2f", fl->period,
                date, fl->new_defaults,
                fl->interest_collected + fl->principal_collected + fl->cleanup_price,
                fl->guarantee_payout, fl->topup, fl->recovery_plan + fl->estate_recovery,
                fl->tax_paid + fl->expenses_paid);
        for (int k = 0; k < deal->n_tranches; k++)
            fprintf(out, " %14.2f", fl->interest_paid[k] + fl->principal_paid[k]);
        fprintf(out, " %14.2f %s\n", fl->residual, fl->accelerated ? "ACCEL" : "");
    }
    const ipabs_state *st = cf->final_state;
    for (int k = 0; k < deal->n_tranches; k++) {
        double loss = 0.0;
        for (int t = 0; t < cf->n_periods; t++)
            loss += cf->periods[t].principal_loss[k];
        fprintf(out, "%s: principal loss %.2f\n", deal->tranches[k].name, loss);
    }
    fprintf(out, "guarantor: paid %.2f in payouts and top-ups%s\n",
            st->guarantor_paid_total, st->capacity_exhausted ? " (capacity exhausted)" : "");
}

static void weighted_averages(const ipabs_deal *deal, double *rate, double *pd,
                              double *term_years)
{
    *rate = *pd = *term_years = 0.0;
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        double w = l->principal / deal->pool_balance;
        *rate += w * l->rate;
        *pd += w * l->pd_annual;
        *term_years += w * l->term / deal->frequency;
    }
}

static const char *business_day_name(ipabs_bday_rule r)
{
    switch (r) {
    case IPABS_BDAY_UNADJUSTED:
        return "unadjusted";
    case IPABS_BDAY_FOLLOWING:
        return "following";
    case IPABS_BDAY_MODIFIED_FOLLOWING:
        return "modified following";
    case IPABS_BDAY_PRECEDING:
        return "preceding";
    }
    return "?";
}

/* The loans' time terms, when any differ from the plain case: day counts,
 * grace, explicit schedules, prepayment and the calendar. */
static void print_time_terms(FILE *out, const ipabs_deal *deal)
{
    int by_dc[IPABS_N_DAYCOUNTS] = {0}, grace = 0, scheduled = 0, prepaying = 0;
    double cpr = 0.0;
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        by_dc[l->daycount]++;
        grace += l->grace_periods > 0;
        scheduled += l->amort == IPABS_LOAN_SCHEDULE;
        prepaying += l->cpr > 0.0;
        cpr += l->principal / deal->pool_balance * l->cpr;
    }
    fprintf(out, "loan day counts:");
    for (int dc = 0; dc < IPABS_N_DAYCOUNTS; dc++)
        if (by_dc[dc] > 0)
            fprintf(out, " %s %d", ipabs_daycount_name((ipabs_daycount)dc), by_dc[dc]);
    fprintf(out, "; %d with grace periods, %d on explicit schedules, %d prepaying "
                 "(weighted CPR %.4f%%); payment dates %s, %d holidays and %d "
                 "worked weekend days in the calendar\n",
            grace, scheduled, prepaying, 100 * cpr, business_day_name(deal->business_day),
            deal->n_holidays, deal->n_workdays);
}

/* Terminal columns of a UTF-8 name: East Asian characters (U+1100 on, the
 * Hangul, CJK and full-width blocks in practice) take two. */
static int display_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != 0; p++) {
        if ((*p & 0xC0) == 0x80)
            continue; /* a continuation byte */
        w += *p >= 0xE1 ? 2 : 1;
    }
    return w;
}

static void print_padded(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int w = display_width(s); w < width; w++)
        fputc(' ', out);
}

/* A class's puts: date, share exercised, resale, reset and supporter, in
 * payment periods as the scenario gives them (m collection periods each). */
static void print_puts(FILE *out, const ipabs_tranche *t, int m)
{
    for (int j = 0; j < t->n_puts; j++) {
        const ipabs_put *p = &t->puts[j];
        fprintf(out, "  put at period %d: %.2f%% exercised, %.2f%% of the purchase resold, ",
                p->period / m, 100 * p->exercised, 100 * p->resold);
        if (p->reset)
            fprintf(out, "coupon reset to %.3f%% from period %d", 100 * p->coupon,
                    p->period / m + 1);
        else
            fprintf(out, "coupon unchanged");
        fprintf(out, "; principal account first, then the %s buys\n",
                t->put_supporter == IPABS_SUPPORTER_ORIGINATOR ? "originator" : "guarantor");
    }
}

/* The originator's call: its dates and the one exercised (payment periods). */
static void print_call(FILE *out, const ipabs_deal *deal, int m)
{
    if (deal->n_call_periods == 0)
        return;
    fprintf(out, "call (originator) at periods");
    for (int j = 0; j < deal->n_call_periods; j++)
        fprintf(out, "%s %d", j == 0 ? "" : ",", deal->call_periods[j] / m);
    if (deal->call_exercise > 0)
        fprintf(out, "; exercised at period %d\n", deal->call_exercise / m);
    else
        fprintf(out, "; not exercised\n");
}

/* The orders of payments the scenario stated (plan.priority_of_payments). */
static void print_orders(FILE *out, const ipabs_deal *deal)
{
    static const char *const kind[IPABS_N_POPS] = {"normal", "after acceleration",
                                                   "after an event of default"};
    static const char *const word[] = {
        [IPABS_POP_TAXES] = "taxes", [IPABS_POP_EXPENSE] = "expense",
        [IPABS_POP_INTEREST] = "interest", [IPABS_POP_PRINCIPAL] = "principal",
        [IPABS_POP_REIMBURSEMENT] = "reimbursement", [IPABS_POP_DEFICIENCY] = "deficiency",
        [IPABS_POP_RESERVE] = "reserve", [IPABS_POP_RESIDUAL] = "residual"};
    for (int o = 0; o < IPABS_N_POPS; o++) {
        if (!deal->pop_given[o])
            continue;
        const ipabs_pop *p = &deal->pop[o];
        fprintf(out, "priority of payments, %s:", kind[o]);
        for (int j = 0; j < p->n_steps; j++) {
            const ipabs_pop_step *x = &p->steps[j];
            fprintf(out, "%s %s", j == 0 ? "" : ",", word[x->op]);
            if (x->op == IPABS_POP_EXPENSE)
                fprintf(out, " %s", deal->expenses[x->index].name);
            for (int i = 0; i < x->n; i++)
                fprintf(out, "%s%s", i == 0 ? " " : "+", deal->tranches[p->classes[x->at + i]].name);
        }
        fputc('\n', out);
    }
}

void ipabs_deal_print(FILE *out, const ipabs_deal *deal)
{
    double rate, pd, term;
    char date[11];
    weighted_averages(deal, &rate, &pd, &term);
    ipabs_date_format(deal->closing, date);
    int m = deal->pay_every > 1 ? deal->pay_every : 1;
    fprintf(out, "%s (%s), closing %s, %d payments a year, %s, legal final period %d\n",
            deal->name, deal->currency, date, deal->frequency / m,
            ipabs_daycount_name(deal->daycount), deal->legal_final / m);
    if (m > 1)
        fprintf(out, "collections: %d a year, %d per payment period, transfer lag %d "
                     "collection period%s; the class periods below count payment "
                     "periods; loan terms, lags and the rows of periods.csv count "
                     "collection periods (payment dates: %d, %d, ..., %d)\n",
                deal->frequency, m, deal->transfer_lag, deal->transfer_lag == 1 ? "" : "s",
                m, 2 * m, deal->legal_final);
    fprintf(out, "pool: %d loans, %.2f; weighted average rate %.4f%%, annual PD %.4f%%, "
                 "term %.2f years\n",
            deal->n_loans, deal->pool_balance, 100 * rate, 100 * pd, term);
    print_time_terms(out, deal);
    fprintf(out, "%-16s %-7s %16s %8s %-13s %-8s %-11s %s\n", "tranche", "class", "balance",
            "coupon", "amortisation", "expected", "legal final", "day count");
    for (int k = 0; k < deal->n_tranches; k++) {
        const ipabs_tranche *t = &deal->tranches[k];
        char expected[16] = "-";
        if (t->expected_maturity > 0)
            snprintf(expected, sizeof expected, "%d", t->expected_maturity / m);
        print_padded(out, t->name, 16);
        fprintf(out, " %-7s %16.2f %7.3f%% %-13s %-8s %-11d %s",
                t->cls == IPABS_CLASS_SENIOR ? "senior" : "sub", t->balance,
                100 * t->coupon, ipabs_tranche_amort_name(t->amort), expected,
                t->legal_final / m, ipabs_daycount_name(t->daycount));
        for (int j = 0; j < t->n_coupon_steps; j++)
            fprintf(out, "%s%.3f%% from period %d", j == 0 ? "; coupon " : ", ",
                    100 * t->coupon_steps[j].coupon, (t->coupon_steps[j].period - 1) / m + 1);
        fputc('\n', out);
        print_puts(out, t, m);
    }
    print_call(out, deal, m);
    const ipabs_guarantor *g = &deal->guarantor;
    char capacity[64] = "unlimited";
    if (!isinf(g->capacity))
        snprintf(capacity, sizeof capacity, "%.2f", g->capacity);
    fprintf(out, "guarantor: %s, rating %s, annual PD %.4f%%, %s payout (lag %d), "
                 "capacity %s, top-up %s\n",
            g->name, g->rating ? g->rating : "-", 100 * g->pd_annual,
            g->payout_style == IPABS_PAYOUT_ACCELERATED ? "accelerated" : "scheduled",
            g->payout_lag, capacity, g->topup ? "on" : "off");
    print_orders(out, deal);
    if (deal->accounts == IPABS_ACCOUNTS_SPLIT)
        fprintf(out, "accounts: revenue and principal; principal held earns %.4f%%; "
                     "principal %s revenue shortfalls\n",
                100 * deal->reinvestment_rate,
                deal->principal_covers_revenue ? "covers" : "does not cover");
    else
        fprintf(out, "accounts: one plan account\n");
}
