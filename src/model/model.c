/*
 * model.c — cumulative PDs, copula variants, the precomputed model plan and
 * the sampling of one path's realisation (SPEC §4).
 *
 * Everything that can be computed once is in the plan: default thresholds
 * F^-1(cumPD_i(t)) for every loan and period, loadings, and each loan's
 * Beta recovery quantiles on a normal-score grid.  A path then costs a few
 * normal draws, a multiply-add per loan and a comparison per period of the
 * loans that default.
 */
#include "ipabs/model.h"

#include "draw_internal.h"
#include "model_internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- copula variants ------------------------------------------------------ */

static double gaussian_cdf(double x, double df)
{
    (void)df;
    return gsl_cdf_ugaussian_P(x);
}

static double gaussian_quantile(double p, double df)
{
    (void)df;
    return p <= 0.0 ? -INFINITY : gsl_cdf_ugaussian_Pinv(p);
}

static double gaussian_mixing(uint64_t seed, uint64_t path, double df)
{
    (void)seed;
    (void)path;
    (void)df;
    return 1.0;
}

static double student_cdf(double x, double df)
{
    return gsl_cdf_tdist_P(x, df);
}

static double student_quantile(double p, double df)
{
    return p <= 0.0 ? -INFINITY : gsl_cdf_tdist_Pinv(p, df);
}

/* sqrt(W), W = nu / chi2_nu, the chi-square from the path's mixing words
 * (draw_internal.h). */
static double student_mixing(uint64_t seed, uint64_t path, double df)
{
    draw_chisq_k k = draw_chisq_init(df);
    return sqrt(df / draw_chisq(seed, path, &k));
}

const ipabs_copula_type ipabs_copula_gaussian = {
    "gaussian", gaussian_cdf, gaussian_quantile, gaussian_mixing};
const ipabs_copula_type ipabs_copula_student_t = {
    "student_t", student_cdf, student_quantile, student_mixing};

/* ---- cumulative PDs ------------------------------------------------------- */

#define PD_CAP (1.0 - 1e-12)

static double constant_hazard(double annual, double multiplier, int t, int f)
{
    double pd = fmin(annual * multiplier, PD_CAP);
    return 1.0 - pow(1.0 - pd, (double)t / f);
}

static const ipabs_pd_curve *find_curve(const ipabs_model *m, const char *name)
{
    for (int k = 0; k < m->n_curves; k++)
        if (strcmp(m->curves[k].name, name) == 0)
            return &m->curves[k];
    return NULL;
}

static double rating_pd(const ipabs_model *m, const char *rating, double fallback)
{
    for (int k = 0; k < m->n_ratings; k++)
        if (strcmp(m->rating_names[k], rating) == 0)
            return m->rating_pd[k];
    return fallback;
}

double ipabs_model_loan_cum_pd(const ipabs_deal *deal, int loan, int t)
{
    const ipabs_loan *l = &deal->loans[loan];
    const ipabs_model *m = &deal->model;
    if (t <= 0)
        return 0.0;
    const ipabs_pd_curve *curve = l->pd_curve ? find_curve(m, l->pd_curve) : NULL;
    if (curve != NULL) {
        double cum = curve->cum_pd[(t <= curve->n ? t : curve->n) - 1];
        return fmin(cum * m->pd_multiplier, PD_CAP);
    }
    double annual = l->rating ? rating_pd(m, l->rating, l->pd_annual) : l->pd_annual;
    return constant_hazard(annual, m->pd_multiplier, t, deal->frequency);
}

double ipabs_model_guarantor_cum_pd(const ipabs_deal *deal, int t)
{
    if (t <= 0)
        return 0.0;
    return constant_hazard(deal->guarantor.pd_annual, deal->model.pd_multiplier,
                           t, deal->frequency);
}

double ipabs_static_loss(const ipabs_loan *l)
{
    double recovered = fmin(l->principal, l->ip_value * l->recovery_mean) -
                       l->disposal_cost;
    return l->principal - fmin(fmax(recovered, 0.0), l->principal);
}

/* ---- the plan ------------------------------------------------------------- */

void ipabs_model_plan_free(ipabs_model_plan *p)
{
    if (p == NULL)
        return;
    free(p->term);
    free(p->a);
    free(p->s);
    free(p->c);
    free(p->factor);
    free(p->threshold);
    free(p->beta_table);
    free(p->recovery_fixed);
    free(p->g_threshold);
    free(p->tables);
    free(p->is_mu);
    free(p);
}

static ipabs_status plan_alloc(const ipabs_deal *deal, ipabs_model_plan **out)
{
    ipabs_model_plan *p = calloc(1, sizeof *p);
    *out = p;
    if (p == NULL)
        return IPABS_ENOMEM;
    size_t n = (size_t)deal->n_loans, T1 = (size_t)deal->legal_final + 1;
    p->n_loans = deal->n_loans;
    p->legal_final = deal->legal_final;
    p->term = calloc(n, sizeof(int));
    p->a = calloc(n, sizeof(double));
    p->s = calloc(n, sizeof(double));
    p->c = calloc(n, sizeof(double));
    p->factor = calloc(n, sizeof(int));
    p->threshold = calloc(n * T1, sizeof(double));
    p->beta_table = calloc(n, sizeof(double *));
    p->recovery_fixed = calloc(n, sizeof(double));
    p->g_threshold = calloc(T1, sizeof(double));
    p->tables = calloc(n * IPABS_BETA_TABLE_SIZE, sizeof(double));
    if (!p->term || !p->a || !p->s || !p->c || !p->factor || !p->threshold ||
        !p->beta_table || !p->recovery_fixed || !p->g_threshold || !p->tables)
        return IPABS_ENOMEM;
    return IPABS_OK;
}

static ipabs_status loan_loadings(const ipabs_deal *deal, ipabs_model_plan *p,
                                  ipabs_error *err)
{
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        double a = isnan(l->factor_loading) ? sqrt(deal->model.correlation)
                                            : l->factor_loading;
        double s = l->sector_index >= 0 ? deal->model.sector_loading[l->sector_index] : 0.0;
        double idio = 1.0 - a * a - s * s;
        if (idio < -1e-12)
            return ipabs_error_set(err, IPABS_EINPUT, deal->tape_file, l->tape_line,
                                   0, "factor_loading",
                                   "loan %s: global loading %g and sector loading %g "
                                   "give a^2 + s^2 = %g > 1",
                                   l->id, a, s, a * a + s * s);
        p->a[i] = a;
        p->s[i] = s;
        p->c[i] = sqrt(fmax(idio, 0.0));
        p->factor[i] = l->sector_index >= 0 ? 1 + l->sector_index : 0;
        p->term[i] = l->term;
    }
    return IPABS_OK;
}

static ipabs_status thresholds(const ipabs_deal *deal, ipabs_model_plan *p,
                               ipabs_error *err)
{
    int T1 = deal->legal_final + 1;
    for (int i = 0; i < deal->n_loans; i++) {
        double *thr = &p->threshold[(size_t)i * T1];
        thr[0] = -INFINITY;
        for (int t = 1; t < T1; t++) {
            thr[t] = p->copula->quantile(ipabs_model_loan_cum_pd(deal, i, t), p->df);
            if (isnan(thr[t]))
                return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                                       "default threshold of loan %s, period %d "
                                       "is not a number", deal->loans[i].id, t);
        }
    }
    p->g_threshold[0] = -INFINITY;
    for (int t = 1; t < T1; t++)
        p->g_threshold[t] = p->copula->quantile(
            ipabs_model_guarantor_cum_pd(deal, t), p->df);
    p->guarantor_can_default = deal->guarantor.pd_annual > 0.0;
    p->g_a = isnan(deal->guarantor.loading) ? sqrt(deal->model.correlation)
                                            : deal->guarantor.loading;
    p->g_c = sqrt(fmax(0.0, 1.0 - p->g_a * p->g_a));
    return IPABS_OK;
}

/* The normal score of grid point k. */
static double grid_x(int k)
{
    return -8.0 + 16.0 * k / (IPABS_BETA_TABLE_SIZE - 1);
}

/* GSL's Beta quantile can fail far in the tails of a concentrated Beta
 * (small standard deviation); the CDF does not, so bisect on it there. */
static double beta_quantile(double u, double alpha, double beta)
{
    double q = gsl_cdf_beta_Pinv(u, alpha, beta);
    if (isfinite(q))
        return q;
    double lo = 0.0, hi = 1.0;
    for (int i = 0; i < 80; i++) {
        double mid = 0.5 * (lo + hi);
        if (gsl_cdf_beta_P(mid, alpha, beta) < u)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static ipabs_status fill_beta_table(double *table, double mean, double sd,
                                    const char *id, ipabs_error *err)
{
    double nu = mean * (1.0 - mean) / (sd * sd) - 1.0;
    double alpha = mean * nu, beta = (1.0 - mean) * nu;
    for (int k = 0; k < IPABS_BETA_TABLE_SIZE; k++) {
        double u = gsl_cdf_ugaussian_P(grid_x(k));
        u = fmin(fmax(u, 1e-15), 1.0 - 1e-15);
        table[k] = beta_quantile(u, alpha, beta);
        if (!isfinite(table[k]))
            return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                                   "Beta(%g, %g) quantile for loan %s failed",
                                   alpha, beta, id);
    }
    return IPABS_OK;
}

/* One table per distinct (mean, sd): pools repeat their assumptions. */
static ipabs_status beta_tables(const ipabs_deal *deal, ipabs_model_plan *p,
                                ipabs_error *err)
{
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        p->recovery_fixed[i] = l->recovery_mean;
        if (l->recovery_sd <= 0.0 || l->recovery_mean <= 0.0 || l->recovery_mean >= 1.0)
            continue;
        for (int j = 0; j < i && p->beta_table[i] == NULL; j++)
            if (p->beta_table[j] && deal->loans[j].recovery_mean == l->recovery_mean &&
                deal->loans[j].recovery_sd == l->recovery_sd)
                p->beta_table[i] = p->beta_table[j];
        if (p->beta_table[i] != NULL)
            continue;
        double *table = &p->tables[(size_t)p->n_tables++ * IPABS_BETA_TABLE_SIZE];
        ipabs_status s = fill_beta_table(table, l->recovery_mean, l->recovery_sd, l->id, err);
        if (s != IPABS_OK)
            return s;
        p->beta_table[i] = table;
    }
    p->rec_b = deal->model.recovery_loading;
    p->rec_c = sqrt(fmax(0.0, 1.0 - p->rec_b * p->rec_b));
    return IPABS_OK;
}

ipabs_status ipabs_model_plan_build(const ipabs_deal *deal,
                                    ipabs_model_plan **out, ipabs_error *err)
{
    ipabs_model_plan *p = NULL;
    *out = NULL;
    if (plan_alloc(deal, &p) != IPABS_OK) {
        ipabs_model_plan_free(p);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory building the model plan");
    }
    p->copula = deal->model.copula == IPABS_COPULA_STUDENT_T ? &ipabs_copula_student_t
                                                             : &ipabs_copula_gaussian;
    p->df = deal->model.df;
    p->n_factors = 1 + deal->model.n_sectors;
    ipabs_status s = loan_loadings(deal, p, err);
    if (s == IPABS_OK)
        s = thresholds(deal, p, err);
    if (s == IPABS_OK)
        s = beta_tables(deal, p, err);
    if (s != IPABS_OK) {
        ipabs_model_plan_free(p);
        return s;
    }
    if (deal->model.importance == IPABS_IMPORTANCE_AUTO) {
        p->is_n = p->n_factors + p->n_loans + 1;
        p->is_mu = calloc((size_t)p->is_n, sizeof(double));
        if (p->is_mu == NULL) {
            ipabs_model_plan_free(p);
            return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                                   "out of memory building the model plan");
        }
        p->importance = true;
        ipabs_importance_shift(deal, p, p->is_mu);
        /* The guarantor's failure by the defensive mixture rather than by
         * a shift of its normal (docs/measures.md: variance, bounded
         * weights): when the rule shifts it at all. */
        double *mu_g = &p->is_mu[p->is_n - 1];
        if (*mu_g != 0.0 && p->guarantor_can_default && p->g_c > 0.0) {
            p->is_alpha = IPABS_IS_GUARANTOR_MIXTURE;
            *mu_g = 0.0;
        }
        double h = 0.0;
        for (int j = 0; j < p->is_n; j++)
            h += p->is_mu[j] * p->is_mu[j];
        p->is_half_norm = 0.5 * h;
    }
    *out = p;
    return IPABS_OK;
}

/* ---- sampling ------------------------------------------------------------- */

ipabs_status ipabs_path_draws_init(const ipabs_model_plan *plan,
                                   ipabs_path_draws *d)
{
    memset(d, 0, sizeof *d);
    d->factors = calloc((size_t)plan->n_factors, sizeof(double));
    d->latent = calloc((size_t)plan->n_loans, sizeof(double));
    if (d->factors == NULL || d->latent == NULL) {
        ipabs_path_draws_release(d);
        return IPABS_ENOMEM;
    }
    return IPABS_OK;
}

void ipabs_path_draws_release(ipabs_path_draws *d)
{
    free(d->factors);
    free(d->latent);
    d->factors = NULL;
    d->latent = NULL;
}

/* The recoveries of the loans real lists as defaulting, each from its own
 * position in the path's recovery stream. */
static void model_recoveries(const ipabs_model_plan *plan, uint64_t seed,
                             uint64_t path, double z0, ipabs_realisation *real)
{
    for (int j = 0; j < real->n_defaults; j++) {
        int i = real->order[j];
        double e = plan->beta_table[i] == NULL
            ? 0.0 : draw_normal_at(seed, path, DRAW_RECOVERY, (uint32_t)i);
        real->realisation[i] = model_recovery(plan, i, z0, e);
    }
}

void ipabs_model_sample(const ipabs_deal *deal, const ipabs_model_plan *p,
                        uint64_t seed, uint64_t path,
                        double *z, ipabs_realisation *real,
                        ipabs_path_draws *draws)
{
    int T1 = p->legal_final + 1, nf = p->n_factors;
    /* Importance sampling: each normal shifted as batch_draw shifts it (one
     * addition) and the weight's sum taken in the same order of rows. */
    const double *mu = p->is_mu;
    double dot = 0.0;
    for (int f = 0; f < nf; f++) {
        z[f] = draw_normal_at(seed, path, DRAW_LATENT, (uint32_t)f);
        if (mu != NULL) {
            z[f] += mu[f];
            dot += mu[f] * z[f];
        }
    }
    double m = 1.0;
    if (p->copula != &ipabs_copula_gaussian)
        m = p->copula->mixing(seed, path, p->df);
    for (int i = 0; i < p->n_loans; i++) {
        double e = draw_normal_at(seed, path, DRAW_LATENT, (uint32_t)(nf + i));
        if (mu != NULL) {
            e += mu[nf + i];
            dot += mu[nf + i] * e;
        }
        double x = draw_latent(m, p->a[i], z[0], p->s[i], z[p->factor[i]], p->c[i], e);
        real->default_period[i] =
            draw_default_period(&p->threshold[(size_t)i * T1], p->term[i], x);
        if (draws != NULL)
            draws->latent[i] = x;
    }
    double eg = draw_normal_at(seed, path, DRAW_LATENT, (uint32_t)(nf + p->n_loans));
    if (mu != NULL) {
        eg += mu[nf + p->n_loans];
        dot += mu[nf + p->n_loans] * eg;
    }
    double g = ipabs_importance_guarantor(p, z[0], m, &eg);
    double xg = draw_latent(m, p->g_a, z[0], 0.0, z[0], p->g_c, eg);
    real->guarantor_default_period =
        p->guarantor_can_default ? draw_default_period(p->g_threshold, p->legal_final, xg) : 0;
    ipabs_realisation_index(deal, real);
    model_recoveries(p, seed, path, z[0], real);
    if (draws != NULL) {
        memcpy(draws->factors, z, (size_t)nf * sizeof(double));
        draws->mixing = m;
        draws->guarantor_latent = xg;
        draws->weight = ipabs_importance_path_weight(p, dot, g);
    }
}
