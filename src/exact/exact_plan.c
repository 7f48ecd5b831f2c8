/*
 * exact_plan.c — what the exact module precomputes before integrating:
 * loans grouped into interchangeable groups, groups into blocks by the
 * sector factor they load on, and the convolution plans that add a group's
 * binomial law to a block's loss law and combine the blocks.
 *
 * The loss values a pool can take do not depend on the factors, so the
 * support of every intermediate law and where each pair of atoms lands are
 * worked out once here; at a quadrature node only multiply-adds remain.
 * Supports are exact atoms (subset sums, equal sums merged) while their
 * cost stays within EXACT_ATOM_WORK; otherwise every loss is rounded to a
 * lattice of EXACT_LATTICE_SLOTS steps per pool balance.
 */
#include "exact_internal.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- freeing -------------------------------------------------------------- */

static void conv_release(exact_conv *cv)
{
    free(cv->idx);
    cv->idx = NULL;
}

static void supports_release(exact_plan *p)
{
    for (int b = 0; b < p->n_blocks; b++) {
        exact_block *B = &p->blocks[b];
        for (int g = 0; B->steps != NULL && g < B->n_groups; g++)
            conv_release(&B->steps[g]);
    }
    for (int b = 0; p->combine != NULL && b + 1 < p->n_blocks; b++)
        conv_release(&p->combine[b]);
    free(p->values);
    p->values = NULL;
}

void exact_plan_free(exact_plan *p)
{
    if (p == NULL)
        return;
    supports_release(p);
    for (int g = 0; p->groups != NULL && g < p->n_groups; g++)
        free(p->groups[g].ln_choose);
    for (int b = 0; p->blocks != NULL && b < p->n_blocks; b++)
        free(p->blocks[b].steps);
    free(p->groups);
    free(p->blocks);
    free(p->combine);
    free(p);
}

/* ---- groups and blocks ---------------------------------------------------- */

static bool same_group(const exact_group *g, const exact_group *h)
{
    return g->block == h->block && g->k == h->k && g->a == h->a &&
           g->s == h->s && g->c == h->c && g->loss == h->loss;
}

/* The loan's group key; block holds the sector factor index for now. */
static exact_group loan_key(const ipabs_deal *deal, const ipabs_model_plan *mp,
                            int i, int horizon)
{
    exact_group g = {0};
    int t = horizon < mp->term[i] ? horizon : mp->term[i];
    g.block = mp->s[i] != 0.0 ? mp->factor[i] : 0;
    g.k = mp->threshold[(size_t)i * (mp->legal_final + 1) + t];
    g.a = mp->a[i];
    g.s = g.block > 0 ? mp->s[i] : 0.0;
    g.c = mp->c[i];
    g.loss = ipabs_static_loss(&deal->loans[i]);
    g.m = 1;
    return g;
}

/* Groups in order of first appearance; returns their number. */
static int collect_groups(const ipabs_deal *deal, const ipabs_model_plan *mp,
                          int horizon, exact_group *out)
{
    int n = 0;
    for (int i = 0; i < deal->n_loans; i++) {
        exact_group key = loan_key(deal, mp, i, horizon);
        int g = 0;
        while (g < n && !same_group(&out[g], &key))
            g++;
        if (g < n)
            out[g].m++;
        else
            out[n++] = key;
    }
    return n;
}

/* Renumber sector factors to blocks (non-empty only) and order the groups
 * by block, keeping first appearance within a block. */
static ipabs_status order_blocks(exact_plan *p, exact_group *raw, int n_factors)
{
    int *block_of = calloc((size_t)n_factors, sizeof(int));
    p->blocks = calloc((size_t)n_factors, sizeof *p->blocks);
    if (block_of == NULL || p->blocks == NULL) {
        free(block_of);
        return IPABS_ENOMEM;
    }
    p->n_blocks = 1;
    for (int f = 1; f < n_factors; f++) {
        block_of[f] = -1;
        for (int g = 0; g < p->n_groups && block_of[f] < 0; g++)
            if (raw[g].block == f)
                block_of[f] = p->n_blocks++;
    }
    int next = 0;
    for (int f = 0; f < n_factors; f++) {
        if (block_of[f] < 0)
            continue;
        exact_block *B = &p->blocks[block_of[f]];
        B->first = next;
        for (int g = 0; g < p->n_groups; g++) {
            if (raw[g].block != f)
                continue;
            p->groups[next] = raw[g];
            p->groups[next].block = block_of[f];
            B->n_groups++;
            B->n_loans += raw[g].m;
            next++;
        }
    }
    free(block_of);
    return IPABS_OK;
}

static ipabs_status group_details(exact_plan *p, ipabs_error *err)
{
    for (int g = 0; g < p->n_groups; g++) {
        exact_group *G = &p->groups[g];
        double c = G->c <= EXACT_C_STEP ? 0.0 : G->c;
        double spread = sqrt(c * c + G->s * G->s);
        G->width0 = G->a != 0.0 ? spread / fabs(G->a) : INFINITY;
        G->widthf = G->s != 0.0 ? c / fabs(G->s) : INFINITY;
        bool finite = isfinite(G->k);
        if (finite && G->width0 < EXACT_STEEP)
            p->steep0 = true;
        if (finite && G->widthf < EXACT_STEEP)
            p->blocks[G->block].steep_f = true;
        if (G->m > p->max_m)
            p->max_m = G->m;
        if (G->m <= EXACT_BINOM_DIRECT)
            continue;
        G->ln_choose = malloc(((size_t)G->m + 1) * sizeof(double));
        if (G->ln_choose == NULL)
            return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                                   "out of memory in the exact plan");
        for (int j = 0; j <= G->m; j++) {
            gsl_sf_result r;
            if (gsl_sf_lnchoose_e((unsigned)G->m, (unsigned)j, &r) != GSL_SUCCESS)
                return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                                       "GSL lnchoose(%d, %d) failed", G->m, j);
            G->ln_choose[j] = r.val;
        }
    }
    return IPABS_OK;
}

/* ---- exact atoms ---------------------------------------------------------- */

typedef struct atom_item {
    double v;
    int ij;
} atom_item;

static int atom_cmp(const void *x, const void *y)
{
    const atom_item *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->ij > b->ij) - (a->ij < b->ij);
}

/* The support of a + b and where each pair lands; sums within tol of the
 * smallest sum of their cluster are one atom. */
static ipabs_status sumset(const double *a, int na, const double *b, int nb,
                           double tol, exact_conv *cv, double **values)
{
    size_t n = (size_t)na * (size_t)nb;
    atom_item *items = malloc(n * sizeof *items);
    cv->idx = malloc(n * sizeof(int));
    *values = malloc(n * sizeof(double));
    if (items == NULL || cv->idx == NULL || *values == NULL) {
        free(items);
        return IPABS_ENOMEM;
    }
    for (int j = 0; j < na; j++)
        for (int l = 0; l < nb; l++)
            items[(size_t)j * nb + l] = (atom_item){a[j] + b[l], j * nb + l};
    qsort(items, n, sizeof *items, atom_cmp);
    int nc = 0;
    for (size_t t = 0; t < n; t++) {
        if (nc == 0 || items[t].v - (*values)[nc - 1] > tol)
            (*values)[nc++] = items[t].v;
        cv->idx[items[t].ij] = nc - 1;
    }
    free(items);
    cv->na = na;
    cv->nb = nb;
    cv->nc = nc;
    return IPABS_OK;
}

/* One sumset step under the atom budget; *fits false when over it. */
static ipabs_status atoms_step(double **cur, int *ncur, const double *b, int nb,
                               double tol, long *budget, exact_conv *cv,
                               bool *fits)
{
    long pairs = (long)*ncur * nb;
    if (pairs > *budget || pairs > 64L * EXACT_ATOM_SUPPORT) {
        *fits = false;
        return IPABS_OK;
    }
    *budget -= pairs;
    double *next = NULL;
    ipabs_status s = sumset(*cur, *ncur, b, nb, tol, cv, &next);
    free(*cur);
    *cur = next;
    if (s != IPABS_OK)
        return s;
    *ncur = cv->nc;
    if (cv->nc > EXACT_ATOM_SUPPORT)
        *fits = false;
    return IPABS_OK;
}

/* A block's atoms: its groups added one by one to {0}. */
static ipabs_status block_atoms(exact_plan *p, exact_block *B, long *budget,
                                double **out, bool *fits)
{
    double *cur = malloc(sizeof(double)), *b = malloc(((size_t)p->max_m + 1) * sizeof(double));
    int ncur = 1;
    ipabs_status s = cur && b ? IPABS_OK : IPABS_ENOMEM;
    if (s == IPABS_OK)
        cur[0] = 0.0;
    for (int g = 0; s == IPABS_OK && *fits && g < B->n_groups; g++) {
        const exact_group *G = &p->groups[B->first + g];
        for (int c = 0; c <= G->m; c++)
            b[c] = c * G->loss;
        s = atoms_step(&cur, &ncur, b, G->m + 1, p->tol, budget, &B->steps[g], fits);
    }
    free(b);
    B->support = ncur;
    *out = cur;
    return s;
}

/* Exact atoms for every block and their combination; *fits false (and
 * nothing kept) when the budget does not allow it. */
static ipabs_status build_atoms(exact_plan *p, bool *fits)
{
    long budget = EXACT_ATOM_WORK;
    double *total = NULL, *part = NULL;
    int ntotal = 0;
    *fits = true;
    ipabs_status s = block_atoms(p, &p->blocks[0], &budget, &total, fits);
    ntotal = p->blocks[0].support;
    for (int b = 1; s == IPABS_OK && *fits && b < p->n_blocks; b++) {
        s = block_atoms(p, &p->blocks[b], &budget, &part, fits);
        if (s == IPABS_OK && *fits)
            s = atoms_step(&total, &ntotal, part, p->blocks[b].support, p->tol,
                           &budget, &p->combine[b - 1], fits);
        free(part);
        part = NULL;
    }
    p->values = total;
    p->n_values = ntotal;
    if (s != IPABS_OK || !*fits)
        supports_release(p);
    return s;
}

/* ---- lattice -------------------------------------------------------------- */

static ipabs_status build_lattice(exact_plan *p)
{
    p->lattice = true;
    p->unit = p->pool / EXACT_LATTICE_SLOTS;
    int total = 1;
    for (int b = 0; b < p->n_blocks; b++) {
        exact_block *B = &p->blocks[b];
        int size = 1;
        for (int g = 0; g < B->n_groups; g++) {
            const exact_group *G = &p->groups[B->first + g];
            int stride = (int)lround(G->loss / p->unit);
            B->steps[g] = (exact_conv){size, G->m + 1, size + G->m * stride, NULL, stride};
            size = B->steps[g].nc;
        }
        B->support = size;
        if (b > 0) {
            p->combine[b - 1] = (exact_conv){total, size, total + size - 1, NULL, 1};
            total += size - 1;
        } else {
            total = size;
        }
    }
    p->n_values = total;
    p->values = malloc((size_t)total * sizeof(double));
    if (p->values == NULL)
        return IPABS_ENOMEM;
    for (int j = 0; j < total; j++)
        p->values[j] = j * p->unit;
    return IPABS_OK;
}

/* Pair operations of one conditional law per block, and of combining. */
static void plan_work(exact_plan *p)
{
    p->max_chain = 1;
    for (int b = 0; b < p->n_blocks; b++) {
        exact_block *B = &p->blocks[b];
        int count = 1;
        B->work = 0.0;
        for (int g = 0; g < B->n_groups; g++) {
            const exact_conv *cv = &B->steps[g];
            B->work += (double)cv->na * cv->nb + (double)count * cv->nb;
            count += p->groups[B->first + g].m;
        }
        if (B->support > p->max_chain)
            p->max_chain = B->support;
        if (B->n_loans + 1 > p->max_chain)
            p->max_chain = B->n_loans + 1;
    }
    p->combine_work = 0.0;
    for (int b = 1; b < p->n_blocks; b++)
        p->combine_work += (double)p->combine[b - 1].na * p->combine[b - 1].nb +
                           (double)(p->n_loans + 1) * (p->blocks[b].n_loans + 1);
}

/* ---- guarantor and tranche 0 ---------------------------------------------- */

static void guarantor_terms(exact_plan *p, const ipabs_model_plan *mp)
{
    p->g_can_default = mp->guarantor_can_default;
    p->g_k = mp->g_threshold[p->horizon];
    p->g_a = mp->g_a;
    p->g_c = mp->g_c;
    double c = p->g_c <= EXACT_C_STEP ? 0.0 : p->g_c;
    p->g_width = p->g_a != 0.0 ? c / fabs(p->g_a) : INFINITY;
    if (p->g_can_default && isfinite(p->g_k) && p->g_width < EXACT_STEEP)
        p->steep0 = true;
}

static void senior_index(exact_plan *p, const ipabs_deal *deal)
{
    p->senior_index = -1;
    if (deal->n_tranches == 0)
        return;
    double attach = p->pool - deal->tranches[0].balance;
    int j = 0;
    while (j < p->n_values && !(p->values[j] > attach + p->tol))
        j++;
    p->senior_index = j;
}

/* ---- building ------------------------------------------------------------- */

static ipabs_status alloc_parts(exact_plan *p, const ipabs_deal *deal,
                                const ipabs_model_plan *mp, int horizon)
{
    exact_group *raw = malloc((size_t)(deal->n_loans ? deal->n_loans : 1) * sizeof *raw);
    p->groups = calloc((size_t)(deal->n_loans ? deal->n_loans : 1), sizeof *p->groups);
    if (raw == NULL || p->groups == NULL) {
        free(raw);
        return IPABS_ENOMEM;
    }
    p->n_groups = collect_groups(deal, mp, horizon, raw);
    ipabs_status s = order_blocks(p, raw, mp->n_factors);
    free(raw);
    if (s != IPABS_OK)
        return s;
    p->combine = calloc((size_t)p->n_blocks, sizeof *p->combine);
    if (p->combine == NULL)
        return IPABS_ENOMEM;
    for (int b = 0; b < p->n_blocks; b++) {
        int n = p->blocks[b].n_groups;
        p->blocks[b].steps = calloc((size_t)(n ? n : 1), sizeof(exact_conv));
        if (p->blocks[b].steps == NULL)
            return IPABS_ENOMEM;
    }
    return IPABS_OK;
}

static ipabs_status plan_fill(exact_plan *p, const ipabs_deal *deal,
                              const ipabs_model_plan *mp, ipabs_error *err)
{
    ipabs_status s = alloc_parts(p, deal, mp, p->horizon);
    if (s == IPABS_OK)
        s = group_details(p, err);
    if (s != IPABS_OK)
        return s == IPABS_ENOMEM ? ipabs_error_set(err, s, NULL, 0, 0, NULL,
                                                   "out of memory in the exact plan")
                                 : s;
    guarantor_terms(p, mp);
    bool fits = false;
    s = build_atoms(p, &fits);
    if (s == IPABS_OK && !fits)
        s = build_lattice(p);
    if (s != IPABS_OK)
        return ipabs_error_set(err, s, NULL, 0, 0, NULL,
                               "out of memory building the loss support");
    plan_work(p);
    senior_index(p, deal);
    return IPABS_OK;
}

ipabs_status exact_plan_build(const ipabs_deal *deal, int horizon,
                              exact_plan **out, ipabs_error *err)
{
    ipabs_model_plan *mp = NULL;
    *out = NULL;
    ipabs_status s = ipabs_model_plan_build(deal, &mp, err);
    if (s != IPABS_OK)
        return s;
    exact_plan *p = calloc(1, sizeof *p);
    if (p == NULL) {
        ipabs_model_plan_free(mp);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory in the exact plan");
    }
    p->n_loans = deal->n_loans;
    p->horizon = horizon;
    p->pool = deal->pool_balance;
    p->student = deal->model.copula == IPABS_COPULA_STUDENT_T;
    p->df = deal->model.df;
    p->tol = EXACT_MERGE_TOL * p->pool;
    s = plan_fill(p, deal, mp, err);
    ipabs_model_plan_free(mp);
    if (s != IPABS_OK) {
        exact_plan_free(p);
        return s;
    }
    *out = p;
    return IPABS_OK;
}
