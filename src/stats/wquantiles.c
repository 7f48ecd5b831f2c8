/*
 * wquantiles.c — quantiles and expected shortfall of weighted paths
 * (importance sampling; see ipabs/wquantiles.h and docs/measures.md).
 *
 * The cell layout is that of the unweighted tracker (stats.c): equal bins
 * over [lo, hi], the atom's bin split in three, so that the atom and each
 * cell's extreme values are known exactly with their weights.  Where an
 * estimate needs a part of a cell's interior, the interior is taken at
 * its weighted mean (expected shortfall) or spread evenly between the
 * cell's extremes (quantiles, the distribution function), and the
 * quantile's interval is widened to the cell's extremes.
 */
#include "hist_cells.h"
#include "ipabs/wquantiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool ipabs_wquantiles_init(ipabs_wquantiles *q, double lo, double hi, bool upper)
{
    memset(q, 0, sizeof *q);
    q->lo = lo;
    q->hi = hi > lo ? hi : lo + 1.0;
    q->upper = upper;
    q->atom = NAN;
    q->atom_bin = IPABS_HIST_BINS;
    q->cells = calloc(IPABS_QCELLS, sizeof *q->cells);
    return q->cells != NULL;
}

void ipabs_wquantiles_release(ipabs_wquantiles *q)
{
    free(q->cells);
    q->cells = NULL;
}

void ipabs_wquantiles_set_atom(ipabs_wquantiles *q, double atom)
{
    q->atom = atom;
    q->atom_bin = hist_atom_bin(q->lo, q->hi, atom);
}

/* Cells in increasing order of value (hist_cells.h). */
static int cell_of(const ipabs_wquantiles *q, double x)
{
    return hist_cell(q->lo, q->hi, q->atom, q->atom_bin, x);
}

void ipabs_wquantiles_add_n(ipabs_wquantiles *q, double x, uint64_t count, double w_sum,
                            double w2_sum)
{
    if (count == 0)
        return;
    ipabs_wqcell *c = &q->cells[cell_of(q, x)];
    if (c->n == 0) {
        c->min = c->max = c->ref = x;
        c->n_min = c->n_max = 0;
        c->w_min = c->w2_min = c->w_max = c->w2_max = 0.0;
    }
    if (x < c->min) {
        c->min = x;
        c->n_min = 0;
        c->w_min = c->w2_min = 0.0;
    }
    if (x > c->max) {
        c->max = x;
        c->n_max = 0;
        c->w_max = c->w2_max = 0.0;
    }
    if (x == c->min) {
        c->n_min += count;
        c->w_min += w_sum;
        c->w2_min += w2_sum;
    }
    if (x == c->max) {
        c->n_max += count;
        c->w_max += w_sum;
        c->w2_max += w2_sum;
    }
    double d = x - c->ref;
    c->n += count;
    c->w += w_sum;
    c->w2 += w2_sum;
    c->wd += w_sum * d;
    c->w2d += w2_sum * d;
    c->w2dd += w2_sum * d * d;
    q->n += count;
    q->w += w_sum;
    q->w2 += w2_sum;
}

void ipabs_wquantiles_add(ipabs_wquantiles *q, double x, double w)
{
    ipabs_wquantiles_add_n(q, x, 1, w, w * w);
}

/* ---- the distribution function ----------------------------------------------- */

/* A cell's interior: what lies strictly between its extremes. */
static uint64_t interior_n(const ipabs_wqcell *c)
{
    return c->min == c->max ? 0 : c->n - c->n_min - c->n_max;
}

static double interior_w(const ipabs_wqcell *c)
{
    return interior_n(c) == 0 ? 0.0 : fmax(0.0, c->w - c->w_min - c->w_max);
}

/* The interior's squared weight. */
static double interior_w2(const ipabs_wqcell *c)
{
    return interior_n(c) == 0 ? 0.0 : fmax(0.0, c->w2 - c->w2_min - c->w2_max);
}

/* A point of the weighted law: the value and what it can be. */
typedef struct wpoint {
    double v, lo, hi;
    bool exact;
} wpoint;

/* The value of a cell at which the cumulative weight within the cell
 * first reaches r. */
static wpoint in_cell(const ipabs_wqcell *c, double r)
{
    wpoint p = {c->min, c->min, c->min, true};
    if (c->min == c->max || r <= c->w_min)
        return p;
    if (interior_n(c) == 0 || r > c->w - c->w_max)
        return (wpoint){c->max, c->max, c->max, true};
    double f = fmin(1.0, fmax(0.0, (r - c->w_min) / interior_w(c)));
    return (wpoint){c->min + f * (c->max - c->min), c->min, c->max, false};
}

/* The smallest value whose cumulative weight reaches target; the
 * smallest value when target <= 0, the largest when the target is beyond
 * the total. */
static wpoint locate(const ipabs_wquantiles *q, double target)
{
    long double cum = 0.0L;
    int last = -1;
    for (int k = 0; k < IPABS_QCELLS; k++) {
        const ipabs_wqcell *c = &q->cells[k];
        if (c->n == 0)
            continue;
        if (target <= 0.0)
            return in_cell(c, 0.0);
        long double next = cum + c->w;
        if (next >= target)
            return in_cell(c, (double)(target - cum));
        cum = next;
        last = k;
    }
    const ipabs_wqcell *c = &q->cells[last];
    return (wpoint){c->max, c->max, c->max, true};
}

/* sqrt(n / (n - 1)): the delta-method errors' small-sample factor, which
 * makes them the plain ones when every weight is 1. */
static double df_factor(const ipabs_wquantiles *q)
{
    double n = (double)q->n;
    return sqrt(n / (n - 1.0));
}

/* The delta-method error of a weighted share P = S / W of the paths in a
 * set whose squared weights sum to S2. */
static double share_se(const ipabs_wquantiles *q, double P, double S2)
{
    if (q->n < 2)
        return NAN;
    double v = S2 * (1.0 - 2.0 * P) + P * P * q->w2;
    return sqrt(fmax(0.0, v)) / q->w * df_factor(q);
}

/* Whether the weighted share P (squared weights S2) is compatible with p
 * from below (F + z se >= p) or lies beyond it (F - z se > p). */
static bool reaches(const ipabs_wquantiles *q, double w, double w2, double p)
{
    double P = w / q->w;
    return P + IPABS_CI_Z * share_se(q, P, w2) >= p;
}

static bool beyond(const ipabs_wquantiles *q, double w, double w2, double p)
{
    double P = w / q->w;
    return P - IPABS_CI_Z * share_se(q, P, w2) > p;
}

/* The interval's ends by inverting the test of F_w(x) = p, the error of
 * F_w taken at each x (a score interval, as Woodruff's for weighted
 * survey quantiles): lower, the smallest x with F_w(x) + z se(x) >= p;
 * upper, the smallest x with F_w(x) - z se(x) > p (one value past the
 * last x compatible with p, as the plain interval's order statistic
 * u = ceil(n p + z sqrt(n p (1 - p))) + 1).  A crossing inside a cell's
 * interior is widened to the cell's extreme on the interval's outer side. */
static double interval_end(const ipabs_wquantiles *q, double p, bool upper_end)
{
    long double cum = 0.0L, cum2 = 0.0L;
    int last = -1;
    for (int k = 0; k < IPABS_QCELLS; k++) {
        const ipabs_wqcell *c = &q->cells[k];
        if (c->n == 0)
            continue;
        double w_end = (double)(cum + c->w), w2_end = (double)(cum2 + c->w2);
        bool hit = upper_end ? beyond(q, w_end, w2_end, p) : reaches(q, w_end, w2_end, p);
        if (hit) {
            double w_min = (double)cum + (c->min == c->max ? c->w : c->w_min);
            double w2_min = (double)cum2 + (c->min == c->max ? c->w2 : c->w2_min);
            bool at_min = upper_end ? beyond(q, w_min, w2_min, p) : reaches(q, w_min, w2_min, p);
            if (at_min || c->min == c->max)
                return c->min;
            if (interior_n(c) == 0)
                return c->max;
            return upper_end ? c->max : c->min;
        }
        cum += c->w;
        cum2 += c->w2;
        last = k;
    }
    return q->cells[last].max;
}

ipabs_quantile_est ipabs_wquantiles_estimate(const ipabs_wquantiles *q, double p)
{
    ipabs_quantile_est e = {NAN, NAN, NAN, NAN, false};
    if (q->n == 0 || !(q->w > 0.0))
        return e;
    wpoint v = locate(q, p * q->w);
    e.value = v.v;
    e.exact = v.exact;
    e.lower = v.lo;
    e.upper = v.hi;
    if (q->n > 1) {
        e.lower = fmin(e.lower, interval_end(q, p, false));
        e.upper = fmax(e.upper, interval_end(q, p, true));
    }
    e.se = (e.upper - e.lower) / (2.0 * IPABS_CI_Z);
    return e;
}

void ipabs_wquantiles_cdf(const ipabs_wquantiles *q, double x, double *below, double *upto,
                          double *se_below, double *se_upto)
{
    int cx = cell_of(q, x);
    long double w = 0.0L, w2 = 0.0L;
    for (int k = 0; k < cx; k++) {
        w += q->cells[k].w;
        w2 += q->cells[k].w2;
    }
    const ipabs_wqcell *c = &q->cells[cx];
    double lt = 0.0, le = 0.0, lt2 = 0.0, le2 = 0.0;
    if (c->n == 0 || x < c->min) {
        /* nothing of the cell at or below x */
    } else if (x > c->max) {
        lt = le = c->w;
        lt2 = le2 = c->w2;
    } else if (x == c->min) {
        le = c->min == c->max ? c->w : c->w_min;
        le2 = c->min == c->max ? c->w2 : c->w2_min;
    } else if (x == c->max) {
        lt = c->w - c->w_max;
        lt2 = c->w2 - c->w2_max;
        le = c->w;
        le2 = c->w2;
    } else {
        double f = (x - c->min) / (c->max - c->min);
        lt = le = c->w_min + f * interior_w(c);
        lt2 = le2 = c->w2_min + f * interior_w2(c);
    }
    double W = q->w;
    *below = (double)(w + lt) / W;
    *upto = (double)(w + le) / W;
    *se_below = share_se(q, *below, (double)(w2 + lt2));
    *se_upto = share_se(q, *upto, (double)(w2 + le2));
}

/* ---- expected shortfall ------------------------------------------------------ */

/* Sums over the tail of y = d (x - v): sum w y, sum w^2 y, sum w^2 y^2. */
typedef struct wexcess {
    long double s1, s1b, s2;
} wexcess;

/* weight a and squared weight a2 at the single value x. */
static void excess_at(wexcess *e, double x, double a, double a2, double v, double d)
{
    double y = d * (x - v);
    e->s1 += (long double)a * y;
    e->s1b += (long double)a2 * y;
    e->s2 += (long double)a2 * y * y;
}

/* A whole cell, from its sums about its reference point. */
static void excess_cell(wexcess *e, const ipabs_wqcell *c, double v, double d)
{
    double r = c->ref - v;
    e->s1 += (long double)d * (c->wd + c->w * r);
    e->s1b += (long double)d * (c->w2d + c->w2 * r);
    e->s2 += (long double)c->w2dd + 2.0L * r * c->w2d + (long double)r * r * c->w2;
}

/* The weight t most extreme of a cell: its extreme run exactly, then its
 * interior at its weighted mean, then the other run. */
static void excess_part(wexcess *e, const ipabs_wqcell *c, double t, double v, double d,
                        bool upper)
{
    if (c->min == c->max) {
        excess_at(e, c->min, t, c->w2 * t / c->w, v, d);
        return;
    }
    double ext = upper ? c->max : c->min, other = upper ? c->min : c->max;
    double w_ext = upper ? c->w_max : c->w_min, w2_ext = upper ? c->w2_max : c->w2_min;
    double w_oth = upper ? c->w_min : c->w_max, w2_oth = upper ? c->w2_min : c->w2_max;
    double a = fmin(t, w_ext);
    if (a > 0.0)
        excess_at(e, ext, a, w2_ext * a / w_ext, v, d);
    t -= a;
    double wi = interior_w(c);
    if (t > 0.0 && wi > 0.0) {
        double sum = c->wd + c->w * c->ref - c->w_min * c->min - c->w_max * c->max;
        double b = fmin(t, wi);
        excess_at(e, sum / wi, b, interior_w2(c) * b / wi, v, d);
        t -= b;
    }
    if (t > 0.0 && w_oth > 0.0)
        excess_at(e, other, fmin(t, w_oth), w2_oth * fmin(t, w_oth) / w_oth, v, d);
}

double ipabs_wquantiles_tail_mean(const ipabs_wquantiles *q, double p, double *se)
{
    if (se != NULL)
        *se = NAN;
    double a = 1.0 - p;
    if (q->n == 0 || !(q->w > 0.0) || !(a > 0.0))
        return NAN;
    double d = q->upper ? 1.0 : -1.0;
    double v = locate(q, (q->upper ? p : a) * q->w).v;
    wexcess e = {0.0L, 0.0L, 0.0L};
    double left = a * q->w;
    for (int k = 0; k < IPABS_QCELLS && left > 0.0; k++) {
        const ipabs_wqcell *c = &q->cells[q->upper ? IPABS_QCELLS - 1 - k : k];
        if (c->n == 0)
            continue;
        if (c->w <= left)
            excess_cell(&e, c, v, d);
        else
            excess_part(&e, c, left, v, d, q->upper);
        left -= c->w;
    }
    double W = q->w, es = v + d * (double)(e.s1 / ((long double)a * W));
    if (se != NULL && q->n > 1) {
        /* y over every path (zero off the tail), its weighted mean ybar:
         * sum w^2 (y - ybar)^2 = s2 - 2 ybar s1b + ybar^2 sum w^2. */
        long double ybar = e.s1 / W;
        long double var = e.s2 - 2.0L * ybar * e.s1b + ybar * ybar * q->w2;
        *se = sqrt(fmax(0.0, (double)var)) / W / a * df_factor(q);
    }
    return es;
}
