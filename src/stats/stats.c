/*
 * stats.c — moment and quantile accumulators (see ipabs/stats.h).
 */
#include "hist_cells.h"
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

void ipabs_wmoments_merge(ipabs_wmoments *into, const ipabs_wmoments *from)
{
    if (from->n == 0.0)
        return;
    if (into->n == 0.0) {
        *into = *from;
        return;
    }
    double w = into->w + from->w;
    double mean = w > 0.0 ? into->mean + (from->mean - into->mean) * (from->w / w)
                          : into->mean;
    /* Each part's sums moved from its own mean to the merged one:
     * sum w^2 (x - m)^2 = q + 2 d t + d^2 w2 with d = part mean - m. */
    double da = into->mean - mean, db = from->mean - mean;
    double q = into->q + 2.0 * da * into->t + da * da * into->w2 +
               from->q + 2.0 * db * from->t + db * db * from->w2;
    double t = into->t + da * into->w2 + from->t + db * from->w2;
    into->n += from->n;
    into->w = w;
    into->mean = mean;
    into->w2 += from->w2;
    into->t = t;
    into->q = fmax(0.0, q);
}

double ipabs_wmoments_se(const ipabs_wmoments *m)
{
    if (m->n < 2.0 || !(m->w > 0.0))
        return NAN;
    return sqrt(m->q) / m->w * sqrt(m->n / (m->n - 1.0));
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

#define FIX_SCALE 4294967296.0 /* 2^32 fixed-point steps over [lo, hi] */

static void cells_clear(ipabs_qcell *c)
{
    memset(c, 0, IPABS_QCELLS * sizeof *c);
}

bool ipabs_quantiles_init(ipabs_quantiles *q, double lo, double hi, bool upper)
{
    memset(q, 0, sizeof *q);
    q->lo = lo;
    q->hi = hi > lo ? hi : lo + 1.0;
    q->upper = upper;
    q->atom = NAN;
    q->atom_bin = IPABS_HIST_BINS;
    q->cells = malloc(IPABS_QCELLS * sizeof *q->cells);
    q->tail = malloc(2 * IPABS_TAIL_SIZE * sizeof *q->tail);
    if (q->cells == NULL || q->tail == NULL) {
        ipabs_quantiles_release(q);
        return false;
    }
    cells_clear(q->cells);
    return true;
}

void ipabs_quantiles_release(ipabs_quantiles *q)
{
    free(q->cells);
    free(q->tail);
    q->cells = NULL;
    q->tail = NULL;
}

void ipabs_quantiles_reset(ipabs_quantiles *q)
{
    q->n = 0;
    q->tail_count = 0;
    cells_clear(q->cells);
}

void ipabs_quantiles_set_atom(ipabs_quantiles *q, double atom)
{
    q->atom = atom;
    q->atom_bin = hist_atom_bin(q->lo, q->hi, atom);
}

/* Cells in increasing order of value (hist_cells.h). */
static int cell_of(const ipabs_quantiles *q, double x)
{
    return hist_cell(q->lo, q->hi, q->atom, q->atom_bin, x);
}

static uint64_t fixed_of(const ipabs_quantiles *q, double x)
{
    double f = round((x - q->lo) / (q->hi - q->lo) * FIX_SCALE);
    return f <= 0.0 ? 0 : (f >= FIX_SCALE ? (uint64_t)FIX_SCALE : (uint64_t)f);
}

static void cell_add(ipabs_qcell *c, double x, uint64_t s, uint64_t count)
{
    if (c->n == 0 || x < c->min) {
        c->min = x;
        c->n_min = count;
    } else if (x == c->min) {
        c->n_min += count;
    }
    if (c->n == 0 || x > c->max) {
        c->max = x;
        c->n_max = count;
    } else if (x == c->max) {
        c->n_max += count;
    }
    c->n += count;
    c->s1 += s * count;
    c->s2 += (ipabs_u128)s * s * count;
}

static void cell_merge(ipabs_qcell *into, const ipabs_qcell *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0) {
        *into = *from;
        return;
    }
    if (from->min < into->min) {
        into->min = from->min;
        into->n_min = from->n_min;
    } else if (from->min == into->min) {
        into->n_min += from->n_min;
    }
    if (from->max > into->max) {
        into->max = from->max;
        into->n_max = from->n_max;
    } else if (from->max == into->max) {
        into->n_max += from->n_max;
    }
    into->n += from->n;
    into->s1 += from->s1;
    into->s2 += from->s2;
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

/* The kept values that count: the tail holds up to 2 K values (K =
 * IPABS_TAIL_SIZE) between compactions, of which the K most extreme are
 * the tail proper. */
static int tail_kept(const ipabs_quantiles *q)
{
    return q->tail_count < IPABS_TAIL_SIZE ? q->tail_count : IPABS_TAIL_SIZE;
}

static void swap_at(double *a, int i, int j)
{
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Rearrange a[0..n) so that a[0..k) are k most extreme of them
 * (quickselect with a three-way partition, so that runs of equal values,
 * common in losses, cost no more than distinct ones). */
static void select_most_extreme(const ipabs_quantiles *q, double *a, int n, int k)
{
    int lo = 0, hi = n;
    while (hi - lo > 1) {
        double p = a[lo + (hi - lo) / 2];
        int lt = lo, i = lo, gt = hi;
        /* [lo, lt) more extreme than p, [lt, i) equal, [gt, hi) less. */
        while (i < gt) {
            if (less_extreme(q, p, a[i]))
                swap_at(a, lt++, i++);
            else if (less_extreme(q, a[i], p))
                swap_at(a, i, --gt);
            else
                i++;
        }
        if (k < lt)
            hi = lt;
        else if (k <= gt)
            return;
        else
            lo = gt;
    }
}

/* Back to the K most extreme values, as a heap. */
static void tail_compact(ipabs_quantiles *q)
{
    if (q->tail_count <= IPABS_TAIL_SIZE)
        return;
    select_most_extreme(q, q->tail, q->tail_count, IPABS_TAIL_SIZE);
    q->tail_count = IPABS_TAIL_SIZE;
    for (int i = IPABS_TAIL_SIZE / 2 - 1; i >= 0; i--)
        sift_down(q, i);
}

/* Returns false when x was not kept (the K kept values are all at least as
 * extreme).  Once the heap holds K values its root bounds what can enter:
 * a value beyond it is appended after the heap, and every K such values
 * the 2 K are cut back to the K most extreme in O(K) (tail_compact), where
 * replacing the root and sifting it down cost O(log K) cache misses per
 * value (7% of a run when ln(n / K) K values enter).  The kept multiset is
 * the same: the K most extreme values added. */
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
    h[q->tail_count++] = x;
    if (q->tail_count == 2 * IPABS_TAIL_SIZE)
        tail_compact(q);
    return true;
}

void ipabs_quantiles_add(ipabs_quantiles *q, double x)
{
    q->n++;
    cell_add(&q->cells[cell_of(q, x)], x, fixed_of(q, x), 1);
    tail_push(q, x);
}

void ipabs_quantiles_add_n(ipabs_quantiles *q, double x, uint64_t count)
{
    if (count == 0)
        return;
    q->n += count;
    cell_add(&q->cells[cell_of(q, x)], x, fixed_of(q, x), count);
    /* Once one copy is turned away, every further copy would be. */
    for (uint64_t i = 0; i < count && i < IPABS_TAIL_SIZE; i++)
        if (!tail_push(q, x))
            break;
}

void ipabs_quantiles_merge(ipabs_quantiles *into, const ipabs_quantiles *from)
{
    into->n += from->n;
    for (int c = 0; c < IPABS_QCELLS; c++)
        cell_merge(&into->cells[c], &from->cells[c]);
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

/* True if the kept tail runs from its least extreme value on (sealed). */
static bool tail_sealed(const ipabs_quantiles *q)
{
    if (q->tail_count > IPABS_TAIL_SIZE)
        return false;
    for (int i = 1; i < q->tail_count; i++)
        if (less_extreme(q, q->tail[i], q->tail[i - 1]))
            return false;
    return true;
}

void ipabs_quantiles_seal(ipabs_quantiles *q)
{
    tail_compact(q);
    /* Least extreme first: ascending for the upper side (a min-heap),
     * descending for the lower side (a max-heap). */
    qsort(q->tail, (size_t)q->tail_count, sizeof *q->tail, q->upper ? cmp_asc : cmp_desc);
}

/* The kept tail sorted from the most extreme value on (its first
 * tail_kept() values are the tail proper): a sealed tail is that order
 * reversed; otherwise it is sorted here (a report asks for many
 * quantiles, each sorting 16,384 values, a fixed cost the size of 100,000
 * paths before the seal). */
static double *sorted_tail(const ipabs_quantiles *q)
{
    double *s = malloc((size_t)(q->tail_count ? q->tail_count : 1) * sizeof *s);
    if (s == NULL)
        return NULL;
    if (tail_sealed(q)) {
        for (int i = 0; i < q->tail_count; i++)
            s[i] = q->tail[q->tail_count - 1 - i];
        return s;
    }
    memcpy(s, q->tail, (size_t)q->tail_count * sizeof *s);
    qsort(s, (size_t)q->tail_count, sizeof *s, q->upper ? cmp_desc : cmp_asc);
    return s;
}

/* One order statistic: its value and what it can be. */
typedef struct order_val {
    double v, lo, hi;
    bool exact;
} order_val;

static order_val exact_val(double v)
{
    return (order_val){v, v, v, true};
}

/* The j-th smallest (1-based) of a cell's values: exact in the run of its
 * smallest or largest value, otherwise interpolated strictly between them. */
static order_val cell_order(const ipabs_qcell *c, uint64_t j)
{
    if (c->min == c->max || j <= c->n_min)
        return exact_val(c->min);
    if (j > c->n - c->n_max)
        return exact_val(c->max);
    uint64_t mid = c->n - c->n_min - c->n_max;
    double f = ((double)(j - c->n_min) - 0.5) / (double)mid;
    return (order_val){c->min + f * (c->max - c->min), c->min, c->max, false};
}

/* Values that are not kept are no more extreme than the least extreme
 * kept one, once the tail is full: bound the histogram's answer by it, so
 * that quantiles stay monotone across the two. */
static order_val clamp_to_tail(const ipabs_quantiles *q, order_val o, const double *sorted)
{
    if (sorted == NULL || q->tail_count < IPABS_TAIL_SIZE)
        return o;
    double b = sorted[IPABS_TAIL_SIZE - 1];
    if (q->upper) {
        o.v = fmin(o.v, b);
        o.hi = fmin(o.hi, b);
        o.lo = fmin(o.lo, b);
    } else {
        o.v = fmax(o.v, b);
        o.lo = fmax(o.lo, b);
        o.hi = fmax(o.hi, b);
    }
    return o;
}

/* The k-th smallest of n (1-based). */
static order_val order_stat(const ipabs_quantiles *q, uint64_t k, const double *sorted)
{
    uint64_t r = q->upper ? q->n - k + 1 : k; /* rank from the kept side */
    if (sorted != NULL && r >= 1 && r <= (uint64_t)tail_kept(q))
        return exact_val(sorted[r - 1]);
    uint64_t cum = 0;
    for (int c = 0; c < IPABS_QCELLS; c++) {
        const ipabs_qcell *cell = &q->cells[c];
        if (cell->n > 0 && cum + cell->n >= k)
            return clamp_to_tail(q, cell_order(cell, k - cum), sorted);
        cum += cell->n;
    }
    return exact_val(NAN); /* unreachable while k <= n */
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

static uint64_t clamp_rank(double k, uint64_t n)
{
    return k < 1.0 ? 1 : (k > (double)n ? n : (uint64_t)k);
}

ipabs_quantile_est ipabs_quantiles_estimate(const ipabs_quantiles *q, double p)
{
    ipabs_quantile_est e = {NAN, NAN, NAN, NAN, false};
    if (q->n == 0)
        return e;
    double *sorted = sorted_tail(q);
    double n = (double)q->n, h = IPABS_CI_Z * sqrt(n * p * (1.0 - p));
    order_val v = order_stat(q, rank_of(p, q->n), sorted);
    order_val l = order_stat(q, clamp_rank(floor(n * p - h), q->n), sorted);
    order_val u = order_stat(q, clamp_rank(ceil(n * p + h) + 1.0, q->n), sorted);
    free(sorted);
    e.value = v.v;
    e.exact = v.exact;
    e.lower = fmin(l.lo, v.lo);
    e.upper = fmax(u.hi, v.hi);
    e.se = (e.upper - e.lower) / (2.0 * IPABS_CI_Z);
    return e;
}

double ipabs_quantiles_value(const ipabs_quantiles *q, double p, double *se,
                             bool *exact)
{
    ipabs_quantile_est e = ipabs_quantiles_estimate(q, p);
    if (se != NULL)
        *se = e.se;
    if (exact != NULL)
        *exact = e.exact;
    return e.value;
}

void ipabs_quantiles_count(const ipabs_quantiles *q, double x, double *below, double *upto)
{
    int cx = cell_of(q, x);
    double before = 0.0;
    for (int c = 0; c < cx; c++)
        before += (double)q->cells[c].n;
    const ipabs_qcell *c = &q->cells[cx];
    double lt = 0.0, le = 0.0; /* within the cell */
    if (c->n == 0 || x < c->min) {
        lt = le = 0.0;
    } else if (x > c->max) {
        lt = le = (double)c->n;
    } else if (x == c->min) {
        le = c->min == c->max ? (double)c->n : (double)c->n_min;
    } else if (x == c->max) {
        lt = (double)(c->n - c->n_max);
        le = (double)c->n;
    } else {
        double mid = (double)(c->n - c->n_min - c->n_max);
        lt = le = (double)c->n_min + mid * (x - c->min) / (c->max - c->min);
    }
    *below = before + lt;
    *upto = before + le;
}

/* ---- expected shortfall --------------------------------------------------- */

/* Sums over the m most extreme values x of y = d (x - v) (d = +1 on the
 * upper side, -1 on the lower) and of y^2. */
typedef struct excess {
    long double s1, s2;
} excess;

static void excess_add(excess *e, double y, double count)
{
    e->s1 += (long double)y * count;
    e->s2 += (long double)y * y * count;
}

/* A whole cell, exactly, from its fixed-point sums. */
static void excess_cell(const ipabs_quantiles *q, const ipabs_qcell *c, double v, double d,
                        excess *e)
{
    long double w = (long double)(q->hi - q->lo) / FIX_SCALE;
    long double sv = ((long double)v - q->lo) / w; /* v in fixed-point units */
    long double n = (long double)c->n, s1 = (long double)c->s1, s2 = (long double)c->s2;
    e->s1 += d * (s1 - n * sv) * w;
    e->s2 += (s2 - 2.0L * sv * s1 + n * sv * sv) * w * w;
}

/* The t most extreme values of a cell: its run at the extreme end exactly,
 * then the interior at its mean, then the other run. */
static void excess_part(const ipabs_quantiles *q, const ipabs_qcell *c, uint64_t t,
                        double v, double d, excess *e)
{
    double w = (q->hi - q->lo) / FIX_SCALE;
    double ext = q->upper ? c->max : c->min, other = q->upper ? c->min : c->max;
    uint64_t n_ext = q->upper ? c->n_max : c->n_min, n_other = q->upper ? c->n_min : c->n_max;
    if (c->min == c->max)
        n_ext = c->n, n_other = 0;
    uint64_t a = t < n_ext ? t : n_ext;
    excess_add(e, d * (ext - v), (double)a);
    t -= a;
    uint64_t mid = c->n - n_ext - n_other;
    if (t > 0 && mid > 0) {
        double sum = q->lo * (double)c->n + w * (double)c->s1 - c->min * (double)c->n_min -
                     c->max * (double)c->n_max;
        uint64_t b = t < mid ? t : mid;
        excess_add(e, d * (sum / (double)mid - v), (double)b);
        t -= b;
    }
    if (t > 0)
        excess_add(e, d * (other - v), (double)t);
}

static void excess_hist(const ipabs_quantiles *q, uint64_t m, double v, double d, excess *e)
{
    uint64_t left = m;
    for (int k = 0; k < IPABS_QCELLS && left > 0; k++) {
        const ipabs_qcell *c = &q->cells[q->upper ? IPABS_QCELLS - 1 - k : k];
        if (c->n == 0)
            continue;
        if (c->n <= left)
            excess_cell(q, c, v, d, e);
        else
            excess_part(q, c, left, v, d, e);
        left -= c->n < left ? c->n : left;
    }
}

double ipabs_quantiles_tail_mean(const ipabs_quantiles *q, double p, double *se)
{
    if (se != NULL)
        *se = NAN;
    if (q->n == 0)
        return NAN;
    uint64_t k = rank_of(p, q->n), m = q->n - k; /* the m most extreme */
    if (m == 0)
        m = 1;
    double d = q->upper ? 1.0 : -1.0;
    double *sorted = sorted_tail(q);
    if (sorted == NULL)
        return NAN;
    /* VaR: the order statistic just inside the m most extreme. */
    uint64_t kv = q->upper ? q->n - m : m + 1;
    double v = kv >= 1 && kv <= q->n ? order_stat(q, kv, sorted).v : sorted[m - 1];
    excess e = {0.0L, 0.0L};
    if (m <= (uint64_t)tail_kept(q))
        for (uint64_t i = 0; i < m; i++)
            excess_add(&e, d * (sorted[i] - v), 1.0);
    else
        excess_hist(q, m, v, d, &e);
    free(sorted);
    double n = (double)q->n, es = v + d * (double)(e.s1 / (long double)m);
    if (se != NULL && q->n > 1) {
        /* Y = (d (X - v))^+ over all n paths (zero off the tail). */
        double mean = (double)(e.s1 / (long double)n);
        double var = ((double)(e.s2 / (long double)n) - mean * mean) * n / (n - 1.0);
        *se = sqrt(fmax(var, 0.0) * n) / (double)m;
    }
    return es;
}
