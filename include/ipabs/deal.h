/*
 * ipabs/deal.h — the validated deal: the immutable plan every later stage
 * reads.
 *
 * Data flow: scenario file + loan tape  →  ipabs_deal (this header)  →
 * realisation  →  waterfall  →  statistics  →  output.
 *
 * The scenario reader (scenario.h) fills the "terms" part of each struct and
 * then calls ipabs_deal_finalize(), which precomputes everything derived:
 * payment dates, accrual fractions, each loan's scheduled balance, interest
 * and amortisation per period, tranche target balances.  After that the
 * deal is never modified; all threads share it through a const pointer, as
 * an FFTW plan is shared.
 *
 * Periods are numbered 1..legal_final.  Arrays "by period" have
 * legal_final + 1 entries and entry 0 stands for the closing date.
 *
 * Ownership: the deal owns every string and array it points to;
 * ipabs_deal_free() releases them all (NULL is a no-op).
 */
#ifndef IPABS_DEAL_H
#define IPABS_DEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ipabs/error.h"

/* ---- enumerations --------------------------------------------------------- */

typedef enum ipabs_daycount {
    IPABS_DAYCOUNT_30_360,   /* 30/360 (bond basis): regular periods = 1/f */
    IPABS_DAYCOUNT_ACT_365F, /* actual days / 365 */
    IPABS_DAYCOUNT_ACT_360   /* actual days / 360 */
} ipabs_daycount;

typedef enum ipabs_loan_amort {
    IPABS_LOAN_BULLET,          /* all principal in the last period */
    IPABS_LOAN_LEVEL_PRINCIPAL, /* equal principal each period after the grace */
    IPABS_LOAN_ANNUITY,         /* 等额本息: level payment at the periodic rate r/f */
    IPABS_LOAN_SCHEDULE         /* explicit principal by period (loans.schedule file) */
} ipabs_loan_amort;

/* Business-day rule for payment dates (deal.business_day). */
typedef enum ipabs_bday_rule {
    IPABS_BDAY_UNADJUSTED,        /* pay on the calendar date */
    IPABS_BDAY_FOLLOWING,         /* next business day */
    IPABS_BDAY_MODIFIED_FOLLOWING,/* next, unless it is in the next month: previous */
    IPABS_BDAY_PRECEDING          /* previous business day */
} ipabs_bday_rule;

/* Number of day counts, for tables indexed by ipabs_daycount. */
enum { IPABS_N_DAYCOUNTS = 3 };

typedef enum ipabs_tranche_class {
    IPABS_CLASS_SENIOR,
    IPABS_CLASS_SUB
} ipabs_tranche_class;

typedef enum ipabs_tranche_amort {
    IPABS_TRANCHE_PASS_THROUGH, /* principal funds as they come; due in full at legal final */
    IPABS_TRANCHE_SCHEDULED,    /* due down to a target balance each period */
    IPABS_TRANCHE_BULLET        /* due in full at the legal final period */
} ipabs_tranche_amort;

typedef enum ipabs_payout_style {
    IPABS_PAYOUT_ACCELERATED, /* whole EAD, payout_lag periods after default */
    IPABS_PAYOUT_SCHEDULED    /* the defaulted loan's scheduled flows, as due */
} ipabs_payout_style;

/* Who holds the pledge of the enterprises' IP (docs/waterfall.md, step 3). */
typedef enum ipabs_pledgee {
    IPABS_PLEDGEE_GUARANTOR, /* counter-guarantee (反担保) to the guarantor: the seed */
    IPABS_PLEDGEE_PLAN       /* pledged to the plan; a paying guarantor is subrogated */
} ipabs_pledgee;

/* Where the guarantor's top-ups are repaid in the priority of payments. */
typedef enum ipabs_reimbursement {
    IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL, /* default: before any sub payment */
    IPABS_REIMBURSE_AFTER_SENIOR_INTEREST,  /* before senior principal */
    IPABS_REIMBURSE_BEFORE_RESIDUAL,        /* after sub interest and principal */
    IPABS_REIMBURSE_NONE                    /* never repaid (the seed model before issue 9) */
} ipabs_reimbursement;

/* How the plan keeps its cash (docs/waterfall.md, "Accounts"). */
typedef enum ipabs_accounts {
    IPABS_ACCOUNTS_SINGLE, /* one account: every receipt pays the next item due */
    IPABS_ACCOUNTS_SPLIT   /* revenue (收益) and principal (本金) accounts */
} ipabs_accounts;

/* The priority of payments as data (plan.priority_of_payments; docs/waterfall.md,
 * "The priority of payments as data").  An order is a list of steps;
 * INTEREST and PRINCIPAL name classes by index in classes[at .. at + n). */
typedef enum ipabs_pop_op {
    IPABS_POP_TAXES,
    IPABS_POP_EXPENSE,       /* one expense, index */
    IPABS_POP_INTEREST,      /* pro rata across the listed classes */
    IPABS_POP_PRINCIPAL,     /* sequentially, in the listed order */
    IPABS_POP_REIMBURSEMENT, /* the guarantor's top-up claim */
    IPABS_POP_DEFICIENCY,    /* revenue repays the principal deficiency ledger */
    IPABS_POP_RESERVE,       /* refill the reserve to its target */
    IPABS_POP_RESIDUAL       /* what is left, to the residual holder */
} ipabs_pop_op;

typedef struct ipabs_pop_step {
    ipabs_pop_op op;
    int index; /* EXPENSE: the expense.  REIMBURSEMENT: -1 when the scenario
                  placed it; in the built-in order, the ipabs_reimbursement
                  position it stands for (taken when guarantor.reimbursement
                  is that one) */
    int at, n; /* INTEREST, PRINCIPAL: classes[at .. at + n) */
} ipabs_pop_step;

typedef struct ipabs_pop {
    int n_steps;
    ipabs_pop_step *steps;
    int n_classes;
    int *classes;
} ipabs_pop;

/* Which order applies: before any event, after an acceleration event
 * (加速清偿事件), after an event of default (违约事件). */
typedef enum ipabs_pop_kind {
    IPABS_POP_NORMAL,
    IPABS_POP_ACCELERATED,
    IPABS_POP_DEFAULTED,
    IPABS_N_POPS
} ipabs_pop_kind;

typedef enum ipabs_expense_basis {
    IPABS_EXPENSE_SENIOR_RATE, /* annual rate on senior opening balance */
    IPABS_EXPENSE_FIXED        /* fixed amount per year, accrued by d(t) */
} ipabs_expense_basis;

typedef enum ipabs_copula_kind {
    IPABS_COPULA_GAUSSIAN,
    IPABS_COPULA_STUDENT_T
} ipabs_copula_kind;

/* Importance sampling of the Monte Carlo (model.importance; docs/measures.md). */
typedef enum ipabs_importance_kind {
    IPABS_IMPORTANCE_OFF,  /* plain Monte Carlo, every path of weight 1 */
    IPABS_IMPORTANCE_AUTO  /* a mean shift chosen from the deal, paths weighted */
} ipabs_importance_kind;

/* ---- parties -------------------------------------------------------------- */

typedef struct ipabs_loan {
    /* Terms, from one row of the loan tape. */
    char *id;
    char *firm;              /* UTF-8, may be Chinese */
    char *sector;
    int sector_index;        /* index into model.sectors, -1 if none */
    double principal;        /* yuan */
    double rate;             /* annual loan rate */
    int term;                /* periods, 1..legal_final */
    ipabs_loan_amort amort;
    int grace_periods;       /* interest-only periods before amortising (0..term-1) */
    ipabs_daycount daycount; /* of the loan's interest and fees (tape or loans.day_count) */
    bool daycount_given;     /* the tape gave day_count for this loan */
    double cpr;              /* constant annual prepayment rate; NAN = loans.prepayment_cpr */
    double *schedule;        /* SCHEDULE: principal due by period 0..term as a
                                fraction of principal ([0] = 0); else NULL */
    double guarantee_fee_rate; /* annual, paid to the guarantor */
    double other_charges_rate; /* annual, other financing charges borne (tape; default 0) */
    double subsidy_rate;       /* annual, public subsidy of the financing cost (default 0) */
    double pd_annual;        /* annual PD before model.pd_multiplier */
    char *rating;            /* optional; PD from model.pd_table; NULL if none */
    char *pd_curve;          /* optional; name in model.pd_curves; NULL if none */
    double factor_loading;   /* loading on the global factor; NAN = sqrt(model.correlation) */
    char *ip_type;
    double ip_value;         /* appraised value of the pledged IP, yuan */
    double recovery_mean;    /* mean realisation fraction of ip_value */
    double recovery_sd;      /* its standard deviation */
    int recovery_lag;        /* periods from default to disposal */
    double disposal_cost;    /* yuan, taken from the disposal proceeds */
    int tape_line;           /* line in the tape, for messages */

    /* Derived by ipabs_deal_finalize, by period 0..legal_final. */
    double *balance;      /* scheduled balance after period t; [0] = principal */
    double *interest;     /* scheduled interest in period t; [0] = 0 */
    double *amortisation; /* principal received in period t, prepayment
                             included; [0] = 0 */
    double *prepayment;   /* of which prepayment; [0] = 0 */
} ipabs_loan;

/* A coupon change of a class: from `period` on, the annual coupon is
 * `coupon` (a step-up on a schedule, or the reset at a put date). */
typedef struct ipabs_coupon_step {
    int period;
    double coupon;
} ipabs_coupon_step;

/* Who buys the securities put and not redeemed from the principal account
 * (plan.tranches[].put_supporter; docs/waterfall.md, "Puts and calls"). */
typedef enum ipabs_put_supporter {
    IPABS_SUPPORTER_GUARANTOR, /* the 差额支付承诺人 (the deal's guarantor) */
    IPABS_SUPPORTER_ORIGINATOR /* the originator (the lender party) */
} ipabs_put_supporter;

/* A holder's put (回售) of a class on a payment date: after that date's
 * payments, `exercised` of the securities in investors' hands are sold
 * back at par plus their share of unpaid coupon; the coupon from period
 * + 1 on is `coupon` when reset (票面利率调整); `resold` of the securities
 * the supporter bought are resold (转售) to new investors at the same
 * price. */
typedef struct ipabs_put {
    int period;        /* the put date: a payment period before the class's
                          legal final and expected maturity */
    double exercised;  /* fraction of investors' securities put, 0..1 */
    double resold;     /* fraction of the supporter's purchase resold, 0..1 */
    bool reset;        /* a coupon reset is given */
    double coupon;     /* the coupon from period + 1 on, when reset */
} ipabs_put;

typedef struct ipabs_tranche {
    char *name;
    ipabs_tranche_class cls;
    double balance;     /* original balance, yuan */
    double coupon;      /* annual fixed coupon (sub: periodic return, may be 0) */
    ipabs_daycount daycount; /* of the coupon (plan.tranches[].day_count) */
    bool daycount_given;
    int n_coupon_steps;      /* coupon changes (step-ups, resets): from period */
    ipabs_coupon_step *coupon_steps; /* steps[j].period on, the coupon is steps[j].coupon */
    double *coupon_at;       /* derived: the coupon of period t, 0..legal_final
                                (steps and put resets) */
    int n_puts;              /* holder's puts, periods increasing (senior only) */
    ipabs_put *puts;
    ipabs_put_supporter put_supporter; /* who buys what the plan does not redeem */
    ipabs_tranche_amort amort;
    int legal_final;    /* period; <= deal legal_final */
    int expected_maturity; /* period by which its principal is due (bullet:
                              all of it); 0 = none: due at legal_final */
    double *target;     /* scheduled: target closing balance by period, else NULL */
} ipabs_tranche;

typedef struct ipabs_expense {
    char *name;         /* payee name in the ledger */
    ipabs_expense_basis basis;
    double amount;      /* rate (SENIOR_RATE) or yuan per year (FIXED) */
    ipabs_daycount daycount; /* of its accrual (plan.expenses[].day_count) */
    bool daycount_given;
} ipabs_expense;

typedef struct ipabs_guarantor {
    char *name;
    char *rating;
    double pd_annual;
    ipabs_payout_style payout_style;
    int payout_lag;        /* periods, accelerated style */
    double capacity;       /* cap on total payouts + top-ups; INFINITY = none */
    bool topup;            /* gives the shortfall top-up undertaking */
    double recovery_rate;  /* fraction of unpaid obligations recovered after its default */
    int recovery_lag;      /* periods from its default to that recovery */
    ipabs_pledgee ip_pledgee;          /* who receives the IP disposal proceeds */
    ipabs_reimbursement reimbursement; /* position of the top-up reimbursement */
    double loading;        /* loading on the global factor (model) */
} ipabs_guarantor;

typedef struct ipabs_triggers {
    bool on_guarantor_default;
    double cdr_threshold;  /* cumulative default ratio; INFINITY = off */
    bool on_senior_interest_shortfall;
} ipabs_triggers;

/* ---- Monte Carlo model (issue 3; optional in the scenario) ----------------- */

typedef struct ipabs_pd_curve {
    char *name;
    int n;          /* number of periods given */
    double *cum_pd; /* cumulative PD at the end of periods 1..n; held flat after */
} ipabs_pd_curve;

typedef struct ipabs_model {
    ipabs_copula_kind copula;
    double df;               /* Student-t degrees of freedom */
    double correlation;      /* default asset correlation: loading sqrt(rho) */
    int n_sectors;
    char **sector_names;
    double *sector_loading;  /* loading of a sector's loans on its own factor */
    double pd_multiplier;    /* stress multiplier on every PD (capped below 1) */
    double recovery_loading; /* Gaussian-copula loading of recovery on the global factor */
    ipabs_importance_kind importance; /* importance sampling of the run (default off) */
    int n_ratings;           /* PD table: rating -> annual PD */
    char **rating_names;
    double *rating_pd;
    int n_curves;
    ipabs_pd_curve *curves;
} ipabs_model;

typedef struct ipabs_simulation {
    long long paths;
    uint64_t seed;
} ipabs_simulation;

/* ---- rating analytics (issue 6; optional `rating:` section) ---------------- */

/* Which loans default at a given breakeven default rate (docs/rating.md). */
typedef enum ipabs_default_rule {
    IPABS_DEFAULT_PRO_RATA,     /* every loan the same share of its balance */
    IPABS_DEFAULT_LARGEST_FIRST /* whole loans by descending principal */
} ipabs_default_rule;

/* How the defaulted amount is spread over the default window. */
typedef enum ipabs_default_timing {
    IPABS_TIMING_FRONT, /* 50/30/20% over the window's thirds */
    IPABS_TIMING_EVEN,  /* the same amount every period */
    IPABS_TIMING_BACK   /* 20/30/50% over the window's thirds */
} ipabs_default_timing;

/* Tenor at which a grade's target default probability is read. */
typedef enum ipabs_rating_tenor {
    IPABS_TENOR_WAL,        /* the senior class's WAL on the no-default path */
    IPABS_TENOR_LEGAL_FINAL /* the latest senior legal final / frequency */
} ipabs_rating_tenor;

/* The rating section.  Zero (calloc) means the documented defaults: an
 * empty list is the default stress grid or the built-in grade table. */
typedef struct ipabs_rating_terms {
    ipabs_default_rule default_rule;
    ipabs_rating_tenor tenor;
    int n_timings;
    ipabs_default_timing *timings;
    int n_recovery_multipliers;
    double *recovery_multipliers; /* x the loan's recovery mean */
    int n_recovery_delays;
    int *recovery_delays;         /* extra periods of recovery lag */
    int n_grades;                 /* best grade first */
    char **grade_names;
    int n_tenors;                 /* tenors 1..n_tenors years */
    double *grade_prob;           /* [g * n_tenors + y]: target default prob. at y + 1 years */
} ipabs_rating_terms;

/* ---- the deal ------------------------------------------------------------- */

typedef struct ipabs_date {
    int year, month, day;
} ipabs_date;

/* The most distinct recovery lags ipabs_deal.recovery_lags lists. */
#define IPABS_RECOVERY_LAG_RUNS 8

/* A loan's scheduled amounts in period t (1..legal_final), as the waterfall
 * reads them for a defaulted loan: copies of the loan's schedules, and the
 * fees' base computed once as the waterfall computed it every time (the
 * same product, so the same bits).  Zero past the loan's term. */
typedef struct ipabs_loan_period {
    double open;         /* balance[t - 1] */
    double interest;     /* interest[t] */
    double amortisation; /* amortisation[t] */
    double fee_base;     /* open x accrual_dc[daycount][t]: what the bank,
                            servicing and guarantee fee rates apply to */
} ipabs_loan_period;

/* What the waterfall reads of a defaulted loan, in 32 bytes instead of a
 * tape row's hundreds: copies of the loan's terms, taken by
 * ipabs_deal_finalize (as the schedules are derived there): terms edited
 * later are not seen (edit a copy, ipabs_deal_copy, and finalise it). */
typedef struct ipabs_loan_hot {
    int term;
    int recovery_lag;
    double guarantee_fee_rate;
    double ip_value;
    double disposal_cost;
} ipabs_loan_hot;

typedef struct ipabs_deal {
    char *name;
    char *currency;
    char *source_file;       /* the scenario path as given */
    char *tape_file;         /* the loan tape's path, as used for messages */
    ipabs_date closing;
    int frequency;           /* periods per year of the deal's grid: the loans'
                                collection frequency (12, 4, 2 or 1); equal to
                                payment_frequency unless loans.frequency is finer */
    int payment_frequency;   /* payments to investors per year (deal.frequency);
                                0 before ipabs_deal_finalize = frequency */
    int pay_every;           /* collection periods per payment period (>= 1);
                                periods pay_every, 2 pay_every, ... are payment dates */
    int transfer_lag;        /* collection periods by which the servicer's
                                collections reach the plan (回收款转付), 0..pay_every-1:
                                those of the last transfer_lag collection periods
                                before a payment date wait for the next one */
    int legal_final;         /* last period T (a payment date) */
    ipabs_daycount daycount; /* deal.day_count: the default of every instrument */
    ipabs_daycount loan_daycount; /* loans.day_count (default deal.day_count) */
    bool loan_daycount_given;
    double prepayment_cpr;   /* loans.prepayment_cpr: default of the tape's cpr */
    ipabs_bday_rule business_day; /* deal.business_day */
    int n_holidays;          /* deal.calendar: non-business weekdays, sorted */
    ipabs_date *holidays;
    int n_workdays;          /* deal.calendar: business weekend days (调休), sorted */
    ipabs_date *workdays;

    double bank_fee_rate;      /* entrusted bank's agency fee, annual on balance */
    double servicing_fee_rate; /* lender/servicer fee, annual on balance */
    double tax_rate;           /* VAT on the plan's interest income */
    double reserve_initial;    /* cash in the plan account at closing */
    double reserve_target;     /* refilled after senior principal */
    bool overcollateralised;   /* tranches may sum to less than the pool */
    double cleanup_call;       /* clean-up call: pool fraction at or below which the
                                  originator buys the performing loans; 0 = none */
    int n_call_periods;        /* plan.call.periods: dates of the originator's
                                  optional call (赎回) */
    int *call_periods;
    int call_exercise;         /* plan.call.exercise: the call date exercised;
                                  0 = not exercised */
    ipabs_accounts accounts;   /* plan.accounts */
    double reinvestment_rate;  /* annual, earned on the principal account held */
    bool principal_covers_revenue; /* split accounts: principal receipts may pay
                                      taxes, expenses and senior interest (the
                                      principal deficiency ledger records it) */
    ipabs_pop pop[IPABS_N_POPS]; /* orders of payments; those not given are
                                    built by ipabs_deal_finalize */
    bool pop_given[IPABS_N_POPS]; /* the scenario stated the order */

    int n_loans;
    ipabs_loan *loans;
    int n_tranches;            /* priority order: seniors first */
    ipabs_tranche *tranches;
    int n_expenses;
    ipabs_expense *expenses;
    ipabs_guarantor guarantor;
    ipabs_triggers triggers;
    ipabs_model model;
    ipabs_simulation simulation;
    ipabs_rating_terms rating;

    /* Derived by ipabs_deal_finalize. */
    ipabs_date *dates;     /* payment dates by period, business-day adjusted; [0] = closing */
    ipabs_date *accrual_dates; /* the unadjusted dates accruals run between */
    double *accrual;       /* d(t) under deal.day_count by period; [0] = 0 */
    double *accrual_dc[IPABS_N_DAYCOUNTS]; /* d(t) under each day count: of the
                                              collection period ending at t */
    double *pay_accrual_dc[IPABS_N_DAYCOUNTS]; /* of the payment period ending at t
                                              (classes and expenses); 0 when t is
                                              not a payment date; = accrual_dc when
                                              pay_every is 1 */
    double pool_balance;   /* sum of loan principals */
    /* Pool totals by period if every loan performed (the no-default path);
     * the waterfall's state starts from them and takes each defaulted
     * loan's share off once, when it defaults (ipabs_state.pool_due), so a
     * path costs O(defaults x their remaining periods), not O(loans). */
    double *pool_interest;      /* obligor interest, gross of fees */
    double *pool_principal;     /* scheduled principal */
    double *pool_agency_fee;    /* bank agency fee */
    double *pool_servicing_fee; /* lender servicing fee */
    double *pool_guarantee_fee; /* guarantee fee */
    int *loans_running_after;   /* by period: loans whose term is later */
    /* The loans' amounts by period, loan-major ([i * (legal_final + 1) + t],
     * ipabs_loan_at), and their hot terms by loan: a large pool's defaults
     * are read from here, one cache line per loan and period, not from
     * the tape rows and four separate schedules. */
    ipabs_loan_period *loan_period;
    ipabs_loan_hot *loan_hot;
    /* The loans' distinct recovery lags, longest first, when there are at
     * most IPABS_RECOVERY_LAG_RUNS of them (else n_recovery_lags is 0): the
     * waterfall then finds a period's disposals as one run of the defaults
     * per lag instead of scanning them all. */
    int n_recovery_lags;
    int recovery_lags[IPABS_RECOVERY_LAG_RUNS];
    int n_senior;          /* tranches [0, n_senior) are senior */
} ipabs_deal;

/* Loan i's amounts in period t (0..legal_final; row 0 is zero). */
static inline const ipabs_loan_period *ipabs_loan_at(const ipabs_deal *deal, int i,
                                                     int t)
{
    return &deal->loan_period[(size_t)i * (size_t)(deal->legal_final + 1) + (size_t)t];
}

/* Is period t a payment date (a multiple of pay_every)? */
static inline bool ipabs_deal_is_payment(const ipabs_deal *deal, int t)
{
    return deal->pay_every <= 1 || t % deal->pay_every == 0;
}

/* Do the servicer's collections of period t wait for the payment date
 * after the next one (they fall within the transfer lag of the next)? */
static inline bool ipabs_deal_collection_deferred(const ipabs_deal *deal, int t)
{
    int m = deal->pay_every;
    return deal->transfer_lag > 0 && (t - 1) % m + 1 > m - deal->transfer_lag;
}

/* Allocate an empty deal with documented defaults (quarterly, 30/360,
 * unlimited guarantor capacity, top-up on, triggers off, Gaussian copula,
 * pd_multiplier 1).  Returns NULL on allocation failure. */
ipabs_deal *ipabs_deal_alloc(void);

/* Free the deal and everything it owns.  NULL is a no-op. */
void ipabs_deal_free(ipabs_deal *deal);

/* A new, unfinalised deal with the terms of src (src/deal/deal_copy.c): every
 * string and terms array deep-copied, no derived array.  Its loans are
 * copies of src's loans from[0..n_loans); from == NULL copies src's loans
 * as they are (n_loans is then ignored).  The caller may edit the terms,
 * must call ipabs_deal_finalize() before use, and frees the copy with
 * ipabs_deal_free().  Whoever adds an owned pointer to the deal must copy
 * it there too.  Errors: IPABS_ENOMEM; IPABS_EINPUT for a from[] index out
 * of range or n_loans < 1. */
ipabs_status ipabs_deal_copy(const ipabs_deal *src, const int *from,
                             int n_loans, ipabs_deal **out, ipabs_error *err);

/* Precompute dates, accruals and schedules.  Requires terms already
 * validated (positive principals, terms within legal_final...).  Returns
 * IPABS_ENOMEM or IPABS_EINPUT (e.g. a scheduled tranche without target)
 * with *err filled. */
ipabs_status ipabs_deal_finalize(ipabs_deal *deal, ipabs_error *err);

/* Date helpers: add months with end-of-month clamping; days between two
 * dates; ISO 8601 text ("2025-03-31", buf >= 11 bytes). */
ipabs_date ipabs_date_add_months(ipabs_date d, int months);
long ipabs_date_days_between(ipabs_date from, ipabs_date to);
void ipabs_date_format(ipabs_date d, char *buf);
bool ipabs_date_parse(const char *text, ipabs_date *out);

/* A business day under the deal's calendar: Monday to Friday unless listed
 * as a holiday, or a weekend day listed as a working day. */
bool ipabs_deal_is_business_day(const ipabs_deal *deal, ipabs_date d);

/* The date adjusted by the deal's business-day rule. */
ipabs_date ipabs_deal_adjust(const ipabs_deal *deal, ipabs_date d);

/* Day of the week, 0 = Monday .. 6 = Sunday. */
int ipabs_date_weekday(ipabs_date d);

/* Compare two dates: <0, 0, >0. */
int ipabs_date_compare(ipabs_date a, ipabs_date b);

/* Accrual fraction between two dates under a day count. */
double ipabs_daycount_fraction(ipabs_daycount dc, ipabs_date from,
                               ipabs_date to);

/* The per-period prepayment share (SMM) of a constant annual prepayment
 * rate cpr in [0, 1) for a deal paying f times a year: 1 - (1 - cpr)^(1/f). */
double ipabs_prepayment_smm(double cpr, int f);

/* Lookups; return -1 when absent. */
int ipabs_deal_find_loan(const ipabs_deal *deal, const char *id);
int ipabs_deal_find_tranche(const ipabs_deal *deal, const char *name);

/* Strings for enums (as written in scenario files). */
const char *ipabs_loan_amort_name(ipabs_loan_amort a);
const char *ipabs_tranche_amort_name(ipabs_tranche_amort a);
const char *ipabs_daycount_name(ipabs_daycount dc);

#endif
