/*
 * exact_rule.c — the quadrature rules of the exact module: composite
 * Gauss–Legendre on fixed panels of a factor axis, split further at the
 * kinks and steep transitions of the conditional PDs.
 *
 * Two axes.  A standard normal factor Z on [-8.5, 8.5] (the mass outside is
 * 2e-17), panels one unit wide in the core and wider in the tails.  For the
 * Student-t copula the chi-square variable V = nu / W in the coordinate
 * t = ln V: its density exp(nu t / 2 - e^t / 2) / (2^(nu/2) Gamma(nu/2)) is
 * smooth on the whole line and the conditional PDs are analytic in t,
 * whereas in V itself they depend on sqrt(V) and a Gauss–Laguerre rule
 * would converge only algebraically.  The t axis runs between the 1e-17
 * and 1 - 1e-17 quantiles of V, in panels one standard deviation of ln V
 * (sqrt(trigamma(nu/2))) wide.
 *
 * Weights include the density and are scaled to sum to 1, so every
 * integrated law is a probability distribution to rounding.
 */
#include "exact_internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <math.h>
#include <stdlib.h>

/* Tail mass left out at each end of the chi-square axis. */
#define CHISQ_TAIL 1e-17

void exact_axis_normal(exact_axis *axis)
{
    static const double edges[] = {-8.5, -5.0, -4.0, -3.0, -2.0, -1.0, 0.0,
                                   1.0,  2.0,  3.0,  4.0,  5.0,  8.5};
    axis->kind = EXACT_AXIS_NORMAL;
    axis->nu = 0.0;
    axis->log_norm = -0.5 * log(2.0 * M_PI);
    axis->n_edges = (int)(sizeof edges / sizeof edges[0]);
    for (int i = 0; i < axis->n_edges; i++)
        axis->edges[i] = edges[i];
}

ipabs_status exact_axis_chisq(exact_axis *axis, double nu, ipabs_error *err)
{
    gsl_sf_result lg, tri;
    double lo = gsl_cdf_chisq_Pinv(CHISQ_TAIL, nu);
    double hi = gsl_cdf_chisq_Qinv(CHISQ_TAIL, nu);
    if (!(lo > 0.0) || !isfinite(hi) || !(hi > lo) ||
        gsl_sf_lngamma_e(0.5 * nu, &lg) != GSL_SUCCESS ||
        gsl_sf_psi_1_e(0.5 * nu, &tri) != GSL_SUCCESS)
        return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                               "GSL failed on the chi-square law with %g "
                               "degrees of freedom", nu);
    double t_lo = log(lo), t_hi = log(hi), sd = sqrt(tri.val);
    int panels = (int)ceil((t_hi - t_lo) / sd);
    if (panels < 4)
        panels = 4;
    if (panels > EXACT_MAX_EDGES)
        panels = EXACT_MAX_EDGES;
    axis->kind = EXACT_AXIS_LOG_CHISQ;
    axis->nu = nu;
    axis->log_norm = -0.5 * nu * M_LN2 - lg.val;
    axis->n_edges = panels + 1;
    for (int i = 0; i <= panels; i++)
        axis->edges[i] = t_lo + (t_hi - t_lo) * i / panels;
    return IPABS_OK;
}

int exact_rule_capacity(const exact_axis *axis, int m)
{
    return (axis->n_edges - 1 + EXACT_MAX_BREAKS) * m;
}

static double log_density(const exact_axis *axis, double x)
{
    if (axis->kind == EXACT_AXIS_NORMAL)
        return axis->log_norm - 0.5 * x * x;
    return axis->log_norm + 0.5 * axis->nu * x - 0.5 * exp(x);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Panel edges: the axis' edges merged with the breaks inside them. */
static int merge_edges(const exact_axis *axis, double *breaks, int n_breaks,
                       double *out)
{
    qsort(breaks, (size_t)n_breaks, sizeof(double), cmp_double);
    double lo = axis->edges[0], hi = axis->edges[axis->n_edges - 1];
    int n = 0, j = 0;
    for (int i = 0; i < axis->n_edges; i++) {
        for (; j < n_breaks && breaks[j] < axis->edges[i]; j++)
            if (breaks[j] > lo && breaks[j] < hi && breaks[j] > out[n - 1])
                out[n++] = breaks[j];
        if (n == 0 || axis->edges[i] > out[n - 1])
            out[n++] = axis->edges[i];
    }
    return n;
}

ipabs_status exact_rule_build(const exact_axis *axis,
                              const gsl_integration_glfixed_table *gl, int m,
                              double *breaks, int n_breaks, exact_rule *r,
                              ipabs_error *err)
{
    double edges[EXACT_MAX_EDGES + 1 + EXACT_MAX_BREAKS];
    int n_edges = merge_edges(axis, breaks, n_breaks, edges);
    double total = 0.0;
    r->n = 0;
    for (int p = 0; p + 1 < n_edges; p++) {
        for (int i = 0; i < m; i++) {
            double x, w;
            if (r->n >= r->cap ||
                gsl_integration_glfixed_point(edges[p], edges[p + 1], (size_t)i,
                                              &x, &w, gl) != GSL_SUCCESS)
                return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                                       "Gauss-Legendre point %d of %d failed", i, m);
            r->x[r->n] = x;
            r->w[r->n] = w * exp(log_density(axis, x));
            total += r->w[r->n++];
        }
    }
    if (!(total > 0.0) || !isfinite(total))
        return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                               "quadrature weights sum to %g", total);
    for (int i = 0; i < r->n; i++)
        r->w[i] /= total;
    return IPABS_OK;
}
