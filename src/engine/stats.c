/*
 * stats.c — moment and quantile accumulators (see ipabs/stats.h).
 */
#include "ipabs/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ipabs_moments_merge(ipabs_moments *into, const ipabs_moments *from)
{
    if (from->n == 0.0)
        return;
    if (into->n == 0.0) {
        *into = *from;
        return;
    }
    double n = into->n + from->n;
    double delta = from->mean - into->mean;
    into->mean += delta * (from->n / n);
    into->m2 += from->m2 + delta * delta * (into->n * from->n / n);
    into->n = n;
}

double ipabs_moments_se(const ipabs_moments *m)
{
    if (m->n < 2.0)
        return NAN;
    return sqrt(m->m2 / (m->n - 1.0) / m->n);
}

/* ---- the loss grid ---------------------------------------------------------- */

int ipabs_grid_bucket(double x, double total, int buckets)
{
    if (!(x > IPABS_GRID_TOL * total))
        return -1;
    /* In bucket units the tolerance is IPABS_GRID_TOL x buckets; the
     * rounding error of x / total x buckets is a few ulp of buckets, far
     * below it. */
    double pos = x / total * (double)buckets - IPABS_GRID_TOL * (double)buckets;
    double k = ceil(pos) - 1.0;
    if (k < 0.0)
        return 0;
    return k >= (double)buckets ? buckets - 1 : (int)k;
}

/* ---- quantiles ------------------------------------------------------------ */

bool ipabs_quantiles_init(ipabs_quantiles *q, double lo, double hi, bool upper)
{
    memset(q, 0, sizeof *q);
    q->lo = lo;
    q->hi = hi > lo ? hi : lo + 1.0;
    q->upper = upper;
    q->bins = calloc(IPABS_HIST_BINS, sizeof *q->bins);
    q->tail = malloc(IPABS_TAIL_SIZE * sizeof *q->tail);
    if (q->bins == NULL || q->tail == NULL) {
        ipabs_quantiles_release(q);
        return false;
    }
    return true;
}

void ipabs_quantiles_release(ipabs_quantiles *q)
{
    free(q->bins);
    free(q->tail);
    q->bins = NULL;
    q->tail = NULL;
}

void ipabs_quantiles_reset(ipabs_quantiles *q)
{
    q->n = 0;
    q->tail_count = 0;
    memset(q->bins, 0, IPABS_HIST_BINS * sizeof *q->bins);
}

static int bin_of(const ipabs_quantiles *q, double x)
{
    double pos = (x - q->lo) / (q->hi - q->lo) * IPABS_HIST_BINS;
    if (!(pos > 0.0))
        return 0;
    if (pos >= IPABS_HIST_BINS)
        return IPABS_HIST_BINS - 1;
    return (int)pos;
}

/* The heap keeps the K most extreme values with the least extreme at the
 * root: a min-heap for the upper side, a max-heap for the lower side. */
static bool less_extreme(const ipabs_quantiles *q, double a, double b)
{
    return q->upper ? a < b : a > b;
}

static void sift_down(ipabs_quantiles *q, int i)
{
    double *h = q->tail;
    int n = q->tail_count;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && less_extreme(q, h[l], h[m]))
            m = l;
        if (r < n && less_extreme(q, h[r], h[m]))
            m = r;
        if (m == i)
            return;
        double t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Returns false when x was not kept (the heap is full of values at least
 * as extreme). */
static bool tail_push(ipabs_quantiles *q, double x)
{
    double *h = q->tail;
    if (q->tail_count < IPABS_TAIL_SIZE) {
        int i = q->tail_count++;
        while (i > 0 && less_extreme(q, x, h[(i - 1) / 2])) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return true;
    }
    if (!less_extreme(q, h[0], x))
        return false;
    h[0] = x;
    sift_down(q, 0);
    return true;
}

void ipabs_quantiles_add(ipabs_quantiles *q, double x)
{
    q->n++;
    q->bins[bin_of(q, x)]++;
    tail_push(q, x);
}

void ipabs_quantiles_add_n(ipabs_quantiles *q, double x, uint64_t count)
{
    q->n += count;
    q->bins[bin_of(q, x)] += count;
    /* Once one copy is turned away, every further copy would be. */
    for (uint64_t i = 0; i < count && i < IPABS_TAIL_SIZE; i++)
        if (!tail_push(q, x))
            break;
}

void ipabs_quantiles_merge(ipabs_quantiles *into, const ipabs_quantiles *from)
{
    into->n += from->n;
    for (int b = 0; b < IPABS_HIST_BINS; b++)
        into->bins[b] += from->bins[b];
    for (int i = 0; i < from->tail_count; i++)
        tail_push(into, from->tail[i]);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int cmp_asc(const void *a, const void *b)
{
    return -cmp_desc(a, b);
}

/* The r-th most extreme value (r = 1 is the most extreme), if kept. */
static bool tail_rank(const ipabs_quantiles *q, uint64_t r, double *out,
                      double *sorted)
{
    if (r < 1 || r > (uint64_t)q->tail_count)
        return false;
    *out = sorted[r - 1];
    return true;
}

static double *sorted_tail(const ipabs_quantiles *q)
{
    double *s = malloc((size_t)(q->tail_count ? q->tail_count : 1) * sizeof *s);
    if (s == NULL)
        return NULL;
    memcpy(s, q->tail, (size_t)q->tail_count * sizeof *s);
    qsort(s, (size_t)q->tail_count, sizeof *s, q->upper ? cmp_desc : cmp_asc);
    return s;
}

/* The k-th smallest value (1-based) from the histogram, interpolated. */
static double hist_order(const ipabs_quantiles *q, uint64_t k)
{
    uint64_t cum = 0;
    double width = (q->hi - q->lo) / IPABS_HIST_BINS;
    for (int b = 0; b < IPABS_HIST_BINS; b++) {
        if (cum + q->bins[b] >= k) {
            double frac = ((double)(k - cum) - 0.5) / (double)q->bins[b];
            return q->lo + width * (b + frac);
        }
        cum += q->bins[b];
    }
    return q->hi;
}

/* The k-th smallest of n (1-based), exact when it is in the kept tail. */
static double order_stat(const ipabs_quantiles *q, uint64_t k, double *sorted,
                         bool *exact)
{
    uint64_t r = q->upper ? q->n - k + 1 : k; /* rank from the kept side */
    double v;
    bool in_tail = sorted != NULL && tail_rank(q, r, &v, sorted);
    if (exact != NULL)
        *exact = in_tail;
    return in_tail ? v : hist_order(q, k);
}

static uint64_t rank_of(double p, uint64_t n)
{
    double k = ceil(p * (double)n - 1e-9);
    if (k < 1.0)
        k = 1.0;
    if (k > (double)n)
        k = (double)n;
    return (uint64_t)k;
}

double ipabs_quantiles_value(const ipabs_quantiles *q, double p, double *se,
                             bool *exact)
{
    if (q->n == 0)
        return NAN;
    double *sorted = sorted_tail(q);
    double v = order_stat(q, rank_of(p, q->n), sorted, exact);
    if (se != NULL) {
        double d = sqrt(p * (1.0 - p) / (double)q->n);
        double hi = order_stat(q, rank_of(fmin(p + d, 1.0), q->n), sorted, NULL);
        double lo = order_stat(q, rank_of(fmax(p - d, 0.0), q->n), sorted, NULL);
        *se = 0.5 * (hi - lo);
    }
    free(sorted);
    return v;
}

/* The mean of the m most extreme values from the histogram (bin
 * midpoints; the last bin taken pro rata): within a bin width. */
static double hist_tail_mean(const ipabs_quantiles *q, uint64_t m)
{
    double width = (q->hi - q->lo) / IPABS_HIST_BINS, sum = 0.0;
    uint64_t left = m;
    for (int k = 0; k < IPABS_HIST_BINS && left > 0; k++) {
        int b = q->upper ? IPABS_HIST_BINS - 1 - k : k;
        uint64_t take = q->bins[b] < left ? q->bins[b] : left;
        sum += (double)take * (q->lo + width * (b + 0.5));
        left -= take;
    }
    return sum / (double)m;
}

double ipabs_quantiles_tail_mean(const ipabs_quantiles *q, double p, double *se)
{
    if (se != NULL)
        *se = NAN;
    if (q->n == 0)
        return NAN;
    uint64_t m = q->n - rank_of(p, q->n); /* the ceil((1-p) n) most extreme */
    if (m == 0)
        m = 1;
    if (m > (uint64_t)q->tail_count)
        return hist_tail_mean(q, m);
    double *sorted = sorted_tail(q);
    if (sorted == NULL)
        return NAN;
    double sum = 0.0, sum2 = 0.0;
    for (uint64_t i = 0; i < m; i++) {
        sum += sorted[i];
        sum2 += sorted[i] * sorted[i];
    }
    free(sorted);
    double mean = sum / (double)m;
    if (se != NULL && m > 1) {
        double var = fmax(0.0, (sum2 - (double)m * mean * mean) / (double)(m - 1));
        *se = sqrt(var / (double)m);
    }
    return mean;
}
