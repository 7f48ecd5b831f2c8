/*
 * importance.c — the mean shift of importance sampling (model.importance
 * auto) and the likelihood ratio of a path.
 *
 * A senior class rated AA+ or AAA loses on one path in 10^4 to 10^6, so
 * plain Monte Carlo spends nearly every path where nothing happens.  The
 * engine instead draws the global factor Z_0 from N(mu0, 1) and the
 * guarantor's idiosyncratic normal from N(mug, 1); a path's likelihood
 * ratio against the model's N(0, 1) is
 *     w = exp(-(mu0 Z_0' + mug e_G') + (mu0^2 + mug^2) / 2)
 * with Z_0', e_G' the shifted draws, and every measure is a weighted mean
 * (docs/measures.md).  Any shift gives unbiased results; the shift only
 * decides the variance.
 *
 * The shift is the most likely point of the senior's loss under the
 * model's own law (the mode of the zero-variance density; Glasserman &
 * Li 2005 for the factor shift of the one-factor Gaussian copula):
 *
 *   log P(L > x | Z_0 = z) is approximated by the Chernoff bound
 *   -sup_theta (theta x - psi(theta, z)), psi the conditional cumulant
 *   generating function of the static pool loss (the loans independent
 *   given Z_0, the sector factors averaged into their conditional PDs,
 *   p_i(z) = Phi((k_i - a_i z) / sqrt(1 - a_i^2))), x the senior's
 *   attachment A = pool - senior balance (the static view of the exact
 *   module);
 *   without a guarantor that can fail the shift is the z <= 0 that
 *   maximises log P(L > A | z) - z^2 / 2;
 *   with one, the senior loses either when the pool loss passes A plus
 *   the guarantor's capacity (never when it is unlimited), or when it
 *   passes A and the guarantor fails, g_a Z_0 + g_c e_G <= k_G; for the
 *   latter, given Z_0 = z the guarantor's most likely failure point is
 *   e_G = min(0, (k_G - g_a z) / g_c), and z maximises log P(L > A | z)
 *   - z^2 / 2 - e_G^2 / 2; the likelier of the two is taken.
 *
 * The maximisation is a grid over [-8, 0] and a golden-section search
 * around its best point.  The loans' own normals are not shifted: a
 * fixed shift of them towards the exponentially twisted default
 * probabilities (Glasserman & Li's second step, which needs a twist that
 * depends on the drawn factor) was tried and raised the variance on the
 * validation scenarios (docs/measures.md).
 *
 * The guarantor's own normal is then not shifted: when the likelier way
 * is through its failure, model.c sets is_alpha and its failure is
 * sampled by a defensive mixture (ipabs_importance_guarantor below):
 * given the drawn factor, with probability alpha its normal is drawn from
 * its law conditioned on failure by the legal final, else from N(0, 1).
 * Its likelihood factor is at most 1 / (1 - alpha), where a shift's
 * weights are log-normal; docs/measures.md compares the two designs.
 *
 * A shift is never positive: a loss that happens at the median factor is
 * not rare and is left unshifted (mu = 0 there).  The Student-t copula's
 * thresholds are used as if the mixing variable were 1, which only makes
 * the shift less than optimal, never the estimate wrong.
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "ipabs/model.h"


/* The pool given Z_0 = z: conditional PDs p_i (the sector factors and
 * the idiosyncratic normals averaged out) and static losses in units of
 * the pool balance. */
typedef struct shift_pool {
    const ipabs_deal *deal;
    const ipabs_model_plan *plan;
    double *pd;    /* scratch, n_loans */
    double *loss;  /* n_loans, fraction of the pool */
    double total;  /* sum of loss */
} shift_pool;

static void conditional_pd(const shift_pool *sp, double z)
{
    const ipabs_model_plan *p = sp->plan;
    int T1 = p->legal_final + 1;
    for (int i = 0; i < p->n_loans; i++) {
        double k = p->threshold[(size_t)i * T1 + p->term[i]];
        double rest = sqrt(p->s[i] * p->s[i] + p->c[i] * p->c[i]);
        sp->pd[i] = rest > 0.0 ? gsl_cdf_ugaussian_P((k - p->a[i] * z) / rest)
                               : (p->a[i] * z <= k ? 1.0 : 0.0);
    }
}

/* psi(theta) = sum log(1 + p (e^{theta L} - 1)), the conditional
 * cumulant generating function of the loss, and its derivative. */
static void cumulant(const shift_pool *sp, double theta, double *psi, double *dpsi)
{
    *psi = *dpsi = 0.0;
    for (int i = 0; i < sp->plan->n_loans; i++) {
        double p = sp->pd[i], l = sp->loss[i];
        if (p <= 0.0 || l <= 0.0)
            continue;
        double e = expm1(fmin(theta * l, 700.0));
        double den = 1.0 + p * e;
        *psi += log1p(p * e);
        *dpsi += l * p * (e + 1.0) / den;
    }
}

/* log P(L > x | Z_0 = z) by the Chernoff bound, the large-deviation rate
 * Glasserman & Li's factor shift rests on: -sup_theta (theta x - psi);
 * 0 when the conditional mean already reaches x; -INFINITY when the
 * whole pool cannot lose x. */
static double log_tail(const shift_pool *sp, double z, double x, double *theta)
{
    *theta = 0.0;
    if (!(sp->total > x))
        return -INFINITY;
    conditional_pd(sp, z);
    double psi, dpsi;
    cumulant(sp, 0.0, &psi, &dpsi);
    if (dpsi >= x)
        return 0.0;
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 64; it++) {
        cumulant(sp, hi, &psi, &dpsi);
        if (dpsi >= x)
            break;
        lo = hi;
        hi *= 2.0;
    }
    for (int it = 0; it < 80; it++) {
        double mid = 0.5 * (lo + hi);
        cumulant(sp, mid, &psi, &dpsi);
        if (dpsi >= x)
            hi = mid;
        else
            lo = mid;
    }
    cumulant(sp, hi, &psi, &dpsi);
    *theta = hi;
    return fmin(0.0, psi - hi * x);
}

/* Factor levels searched (the draws lie within +-6.3, draw_internal.h):
 * a grid, then golden-section refinement around its best point. */
#define SHIFT_LOWEST -8.0
#define SHIFT_GRID 81
#define SHIFT_REFINE 40

/* What a shift costs: minus the log of the (approximate) density of the
 * senior's loss at the shifted point, to be minimised. */
typedef struct shift_cost {
    const shift_pool *sp;
    double x;       /* pool loss (fraction) the senior's loss needs */
    bool guarantor; /* and the guarantor's failure */
    double g_a, g_c, k_g;
} shift_cost;

/* The guarantor's most likely own normal given Z_0 = z. */
static double guarantor_point(const shift_cost *c, double z)
{
    if (!c->guarantor || !(c->g_c > 0.0))
        return 0.0;
    return fmin(0.0, (c->k_g - c->g_a * z) / c->g_c);
}

static double cost_at(const shift_cost *c, double z)
{
    if (c->guarantor && !(c->g_c > 0.0) && c->g_a * z > c->k_g)
        return INFINITY; /* a guarantor without an own normal fails only through Z_0 */
    double e = guarantor_point(c, z), theta;
    return 0.5 * z * z + 0.5 * e * e - log_tail(c->sp, z, c->x, &theta);
}

/* The minimum over z in [SHIFT_LOWEST, 0]; *cost is INFINITY when the
 * event is out of reach. */
static double minimise(const shift_cost *c, double *cost)
{
    double best = 0.0, best_cost = cost_at(c, 0.0);
    double step = -SHIFT_LOWEST / (SHIFT_GRID - 1);
    for (int g = 1; g < SHIFT_GRID; g++) {
        double z = -step * g, v = cost_at(c, z);
        if (v < best_cost) {
            best_cost = v;
            best = z;
        }
    }
    *cost = best_cost;
    if (!isfinite(best_cost))
        return 0.0;
    double a = fmax(SHIFT_LOWEST, best - step), b = fmin(0.0, best + step);
    const double r = 0.6180339887498949;
    double x1 = b - r * (b - a), x2 = a + r * (b - a);
    double f1 = cost_at(c, x1), f2 = cost_at(c, x2);
    for (int it = 0; it < SHIFT_REFINE; it++) {
        if (f1 <= f2) {
            b = x2, x2 = x1, f2 = f1;
            x1 = b - r * (b - a), f1 = cost_at(c, x1);
        } else {
            a = x1, x1 = x2, f1 = f2;
            x2 = a + r * (b - a), f2 = cost_at(c, x2);
        }
    }
    double z = f1 <= f2 ? x1 : x2, v = fmin(f1, f2);
    if (v < best_cost) {
        *cost = v;
        return z;
    }
    return best;
}

void ipabs_importance_shift(const ipabs_deal *deal, const ipabs_model_plan *p,
                            double *mu)
{
    for (int j = 0; j < p->n_factors + p->n_loans + 1; j++)
        mu[j] = 0.0;
    if (deal->n_tranches == 0 || p->n_loans == 0 || !(deal->pool_balance > 0.0))
        return;
    double *buf = calloc(2 * (size_t)p->n_loans, sizeof(double));
    if (buf == NULL)
        return; /* no shift: plain sampling, still correct */
    shift_pool sp = {deal, p, buf, buf + p->n_loans, 0.0};
    for (int i = 0; i < p->n_loans; i++) {
        sp.loss[i] = ipabs_static_loss(&deal->loans[i]) / deal->pool_balance;
        sp.total += sp.loss[i];
    }
    double attach = fmax(0.0, deal->pool_balance - deal->tranches[0].balance) /
                    deal->pool_balance;
    /* The senior's loss with the guarantor standing: the pool loss
     * passes the attachment plus its capacity (never if unlimited; the
     * attachment alone when it cannot fail, the static senior loss). */
    double cap = deal->guarantor.capacity / deal->pool_balance;
    shift_cost alive = {&sp, p->guarantor_can_default ? attach + cap : attach, false,
                        0.0, 0.0, 0.0};
    double cost_alive = INFINITY, z_alive = 0.0;
    if (isfinite(alive.x))
        z_alive = minimise(&alive, &cost_alive);
    /* With the guarantor's failure. */
    double cost_fail = INFINITY, z_fail = 0.0;
    shift_cost fail = {&sp, attach, true, p->g_a, p->g_c,
                       p->guarantor_can_default ? p->g_threshold[p->legal_final] : 0.0};
    if (p->guarantor_can_default)
        z_fail = minimise(&fail, &cost_fail);
    /* The likelier way for the senior to lose. */
    if (isfinite(cost_alive) && cost_alive <= cost_fail) {
        mu[0] = z_alive;
    } else if (isfinite(cost_fail)) {
        mu[0] = z_fail;
        mu[p->n_factors + p->n_loans] = guarantor_point(&fail, z_fail);
    }
    free(buf);
}

double ipabs_importance_weight(const ipabs_model_plan *p, double dot)
{
    if (!p->importance)
        return 1.0;
    return exp(p->is_half_norm - dot);
}

double ipabs_importance_path_weight(const ipabs_model_plan *p, double dot, double g)
{
    return ipabs_importance_weight(p, dot) * g;
}

/* The mixture's distribution function Q(e) = alpha Phi(min(e, b)) / Phi(b)
 * + (1 - alpha) Phi(e), inverted piecewise.  u is taken from the draw as
 * Phi(e) (or, above 0, its complement Phi(-e), which keeps the upper tail's
 * precision). */
double ipabs_importance_guarantor(const ipabs_model_plan *p, double z0, double mix,
                                  double *eg)
{
    double alpha = p->is_alpha;
    if (!(alpha > 0.0) || !p->guarantor_can_default || !(p->g_c > 0.0) || !(mix > 0.0))
        return 1.0;
    double b = (p->g_threshold[p->legal_final] / mix - p->g_a * z0) / p->g_c;
    double pb = gsl_cdf_ugaussian_P(b);
    if (!(pb > 0.0))
        return 1.0;
    double e = *eg, cut = alpha + (1.0 - alpha) * pb; /* Q(b) */
    double lower = e <= 0.0 ? gsl_cdf_ugaussian_P(e) : 1.0 - gsl_cdf_ugaussian_Q(e);
    double x;
    if (lower <= cut) {
        x = gsl_cdf_ugaussian_Pinv(lower / (alpha / pb + 1.0 - alpha));
    } else {
        double upper = e > 0.0 ? gsl_cdf_ugaussian_Q(e) : 1.0 - lower; /* 1 - u */
        x = gsl_cdf_ugaussian_Qinv(upper / (1.0 - alpha));
    }
    *eg = x;
    return 1.0 / (alpha * (x <= b ? 1.0 / pb : 0.0) + 1.0 - alpha);
}
