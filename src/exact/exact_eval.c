/*
 * exact_eval.c — the conditional laws at one quadrature node and their
 * integration over the factors (Andersen–Sidenius–Basu).
 *
 * Nesting, outermost first: the chi-square variable of the Student-t copula
 * (one node of weight 1 for the Gaussian copula), the global factor Z_0,
 * then, for each sector block separately, its sector factor Z_f.  Given
 * (W, Z_0) the blocks are independent, so each block's law is integrated
 * over its own factor and the blocks are then convolved: the cost grows
 * with the sum, not the product, of the sector rules.  Within a block the
 * groups of identical loans are added one by one, each a Binomial(m, p) law
 * on the default count and on the multiples of its loss.  The guarantor
 * loads on Z_0 only, so its conditional PD multiplies the node's law to
 * give the joint probability with the senior tranche's loss.
 *
 * Kinks: a loan with no idiosyncratic weight has a step for conditional PD
 * and a steep one has a sharp transition; the rules get breakpoints there
 * (at the node-dependent position of the step), so Gauss–Legendre never
 * integrates across a discontinuity.
 */
#include "exact_internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct exact_ws {
    int m;
    gsl_integration_glfixed_table *gl;
    exact_axis z_axis, w_axis;
    exact_rule w_rule, z_base, z0_rule, zf_rule;
    double breaks[EXACT_MAX_BREAKS];
    double *binom;                  /* max_m + 1 */
    double *chain_cnt[2], *chain_loss[2];
    double **blk_cnt, **blk_loss;   /* per block, integrated over Z_f */
    double *node_cnt[2], *node_loss[2];
    exact_raw given_w;              /* Student-t: the laws given one W node */
} exact_ws;

/* ---- workspace ------------------------------------------------------------ */

static bool rule_alloc(exact_rule *r, int cap)
{
    r->n = 0;
    r->cap = cap;
    r->x = malloc((size_t)cap * sizeof(double));
    r->w = malloc((size_t)cap * sizeof(double));
    return r->x != NULL && r->w != NULL;
}

static void rule_free(exact_rule *r)
{
    free(r->x);
    free(r->w);
}

static void ws_release(const exact_plan *p, exact_ws *ws)
{
    gsl_integration_glfixed_table_free(ws->gl);
    rule_free(&ws->w_rule);
    rule_free(&ws->z_base);
    rule_free(&ws->z0_rule);
    rule_free(&ws->zf_rule);
    free(ws->binom);
    for (int i = 0; i < 2; i++) {
        free(ws->chain_cnt[i]);
        free(ws->chain_loss[i]);
        free(ws->node_cnt[i]);
        free(ws->node_loss[i]);
    }
    for (int b = 0; b < p->n_blocks; b++) {
        free(ws->blk_cnt ? ws->blk_cnt[b] : NULL);
        free(ws->blk_loss ? ws->blk_loss[b] : NULL);
    }
    free(ws->blk_cnt);
    free(ws->blk_loss);
    exact_raw_release(&ws->given_w);
}

static bool ws_arrays(const exact_plan *p, exact_ws *ws)
{
    bool ok = (ws->binom = malloc(((size_t)p->max_m + 1) * sizeof(double))) != NULL;
    for (int i = 0; i < 2; i++) {
        ok &= (ws->chain_cnt[i] = malloc((size_t)p->max_chain * sizeof(double))) != NULL;
        ok &= (ws->chain_loss[i] = malloc((size_t)p->max_chain * sizeof(double))) != NULL;
        ok &= (ws->node_cnt[i] = malloc(((size_t)p->n_loans + 1) * sizeof(double))) != NULL;
        ok &= (ws->node_loss[i] = malloc((size_t)p->n_values * sizeof(double))) != NULL;
    }
    ws->blk_cnt = calloc((size_t)p->n_blocks, sizeof(double *));
    ws->blk_loss = calloc((size_t)p->n_blocks, sizeof(double *));
    if (ws->blk_cnt == NULL || ws->blk_loss == NULL)
        return false;
    for (int b = 0; b < p->n_blocks; b++) {
        ok &= (ws->blk_cnt[b] = malloc(((size_t)p->blocks[b].n_loans + 1) * sizeof(double))) != NULL;
        ok &= (ws->blk_loss[b] = malloc((size_t)p->blocks[b].support * sizeof(double))) != NULL;
    }
    return ok;
}

static ipabs_status ws_init(const exact_plan *p, int m, exact_ws *ws,
                            ipabs_error *err)
{
    memset(ws, 0, sizeof *ws);
    ws->m = m;
    exact_axis_normal(&ws->z_axis);
    if (p->student) {
        ipabs_status s = exact_axis_chisq(&ws->w_axis, p->df, err);
        if (s != IPABS_OK)
            return s;
    }
    int zcap = exact_rule_capacity(&ws->z_axis, m);
    bool ok = (ws->gl = gsl_integration_glfixed_table_alloc((size_t)m)) != NULL;
    ok &= rule_alloc(&ws->z_base, zcap) && rule_alloc(&ws->z0_rule, zcap) &&
          rule_alloc(&ws->zf_rule, zcap);
    ok &= !p->student || (rule_alloc(&ws->w_rule, exact_rule_capacity(&ws->w_axis, m)) &&
                          exact_raw_init(p, &ws->given_w) == IPABS_OK);
    if (!ok || !ws_arrays(p, ws))
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for the exact workspace (order %d)", m);
    return exact_rule_build(&ws->z_axis, ws->gl, m, ws->breaks, 0, &ws->z_base, err);
}

/* ---- conditional laws ----------------------------------------------------- */

/* Conditional PD of a loan of group G and its complement, each computed
 * directly so that neither loses accuracy in the tails. */
static void group_pd(const exact_group *G, double kscale, double z0, double zf,
                     double *pd, double *q)
{
    if (G->k == -INFINITY) {
        *pd = 0.0;
        *q = 1.0;
        return;
    }
    double x = G->k * kscale - G->a * z0 - G->s * zf;
    if (G->c <= EXACT_C_STEP) {
        *pd = x >= 0.0 ? 1.0 : 0.0;
        *q = 1.0 - *pd;
        return;
    }
    *pd = gsl_cdf_ugaussian_P(x / G->c);
    *q = gsl_cdf_ugaussian_Q(x / G->c);
}

/* Binomial(m, pd) law into b[0..m]. */
static void group_binomial(const exact_group *G, double pd, double q, double *b)
{
    int m = G->m;
    if (G->ln_choose == NULL || pd == 0.0 || q == 0.0) {
        b[0] = 1.0;
        for (int i = 0; i < m; i++) {
            b[i + 1] = b[i] * pd;
            for (int c = i; c >= 1; c--)
                b[c] = b[c] * q + b[c - 1] * pd;
            b[0] *= q;
        }
        return;
    }
    double lp = log(pd), lq = log(q);
    for (int c = 0; c <= m; c++)
        b[c] = exp(G->ln_choose[c] + c * lp + (m - c) * lq);
}

static void conv_apply(const exact_conv *cv, const double *a, const double *b,
                       double *out)
{
    memset(out, 0, (size_t)cv->nc * sizeof(double));
    for (int j = 0; j < cv->na; j++) {
        double aj = a[j];
        if (aj == 0.0)
            continue;
        if (cv->idx != NULL) {
            const int *to = &cv->idx[(size_t)j * cv->nb];
            for (int l = 0; l < cv->nb; l++)
                out[to[l]] += aj * b[l];
        } else {
            for (int l = 0; l < cv->nb; l++)
                out[j + l * cv->stride] += aj * b[l];
        }
    }
}

/* Default counts: out = a (*) b on 0, 1, 2, ... */
static void conv_count(const double *a, int na, const double *b, int nb,
                       double *out)
{
    exact_conv cv = {na, nb, na + nb - 1, NULL, 1};
    conv_apply(&cv, a, b, out);
}

/* A block's conditional count and loss laws given every factor: its groups
 * added one by one.  The results live in the chain buffers. */
static void chain(const exact_plan *p, const exact_block *B, double kscale,
                  double z0, double zf, exact_ws *ws, const double **cnt,
                  const double **loss)
{
    double *cc = ws->chain_cnt[0], *cl = ws->chain_loss[0];
    int flip = 1, n = 1;
    cc[0] = 1.0;
    cl[0] = 1.0;
    for (int g = 0; g < B->n_groups; g++) {
        const exact_group *G = &p->groups[B->first + g];
        double pd, q;
        group_pd(G, kscale, z0, zf, &pd, &q);
        group_binomial(G, pd, q, ws->binom);
        conv_count(cc, n, ws->binom, G->m + 1, ws->chain_cnt[flip]);
        conv_apply(&B->steps[g], cl, ws->binom, ws->chain_loss[flip]);
        cc = ws->chain_cnt[flip];
        cl = ws->chain_loss[flip];
        n += G->m;
        flip ^= 1;
    }
    *cnt = cc;
    *loss = cl;
}

/* ---- breakpoints ---------------------------------------------------------- */

/* The step itself and, for a transition of positive width, points 1, 3 and
 * 8 widths either side, so that each panel sees a smooth piece. */
static int add_kink(double *br, int n, double center, double width)
{
    static const double at[] = {0.0, -1.0, 1.0, -3.0, 3.0, -8.0, 8.0};
    int k = width > 0.0 ? 7 : 1;
    if (!isfinite(center) || n + k > EXACT_MAX_BREAKS)
        return n;
    for (int i = 0; i < k; i++)
        br[n++] = center + at[i] * width;
    return n;
}

static int z0_breaks(const exact_plan *p, double kscale, double *br)
{
    int n = 0;
    if (p->g_can_default && p->g_width < EXACT_STEEP)
        n = add_kink(br, n, p->g_k * kscale / p->g_a, p->g_width);
    for (int g = 0; g < p->n_groups; g++) {
        const exact_group *G = &p->groups[g];
        if (G->width0 < EXACT_STEEP)
            n = add_kink(br, n, G->k * kscale / G->a, G->width0);
    }
    return n;
}

static int zf_breaks(const exact_plan *p, const exact_block *B, double kscale,
                     double z0, double *br)
{
    int n = 0;
    for (int g = 0; g < B->n_groups; g++) {
        const exact_group *G = &p->groups[B->first + g];
        if (G->widthf < EXACT_STEEP)
            n = add_kink(br, n, (G->k * kscale - G->a * z0) / G->s, G->widthf);
    }
    return n;
}

/* ---- integration ---------------------------------------------------------- */

/* Block b's laws given (W, Z_0), integrated over its sector factor. */
static ipabs_status block_integrate(const exact_plan *p, int b, double kscale,
                                    double z0, exact_ws *ws, ipabs_error *err)
{
    const exact_block *B = &p->blocks[b];
    const exact_rule *r = &ws->z_base;
    if (B->steep_f) {
        int n = zf_breaks(p, B, kscale, z0, ws->breaks);
        ipabs_status s = exact_rule_build(&ws->z_axis, ws->gl, ws->m, ws->breaks,
                                          n, &ws->zf_rule, err);
        if (s != IPABS_OK)
            return s;
        r = &ws->zf_rule;
    }
    double *acc_c = ws->blk_cnt[b], *acc_l = ws->blk_loss[b];
    memset(acc_c, 0, ((size_t)B->n_loans + 1) * sizeof(double));
    memset(acc_l, 0, (size_t)B->support * sizeof(double));
    for (int i = 0; i < r->n; i++) {
        const double *cnt, *loss;
        chain(p, B, kscale, z0, r->x[i], ws, &cnt, &loss);
        for (int k = 0; k <= B->n_loans; k++)
            acc_c[k] += r->w[i] * cnt[k];
        for (int j = 0; j < B->support; j++)
            acc_l[j] += r->w[i] * loss[j];
    }
    return IPABS_OK;
}

/* The pool's laws given (W, Z_0): block 0, then each sector block
 * convolved in. */
static ipabs_status node_law(const exact_plan *p, exact_ws *ws, double kscale,
                             double z0, const double **cnt, const double **loss,
                             ipabs_error *err)
{
    chain(p, &p->blocks[0], kscale, z0, 0.0, ws, cnt, loss);
    if (p->n_blocks == 1)
        return IPABS_OK;
    int n = p->blocks[0].n_loans + 1, cur = 1;
    memcpy(ws->node_cnt[0], *cnt, (size_t)n * sizeof(double));
    memcpy(ws->node_loss[0], *loss, (size_t)p->blocks[0].support * sizeof(double));
    for (int b = 1; b < p->n_blocks; b++) {
        ipabs_status s = block_integrate(p, b, kscale, z0, ws, err);
        if (s != IPABS_OK)
            return s;
        conv_count(ws->node_cnt[cur ^ 1], n, ws->blk_cnt[b],
                   p->blocks[b].n_loans + 1, ws->node_cnt[cur]);
        conv_apply(&p->combine[b - 1], ws->node_loss[cur ^ 1], ws->blk_loss[b],
                   ws->node_loss[cur]);
        n += p->blocks[b].n_loans;
        cur ^= 1;
    }
    *cnt = ws->node_cnt[cur ^ 1];
    *loss = ws->node_loss[cur ^ 1];
    return IPABS_OK;
}

static double guarantor_pd(const exact_plan *p, double kscale, double z0)
{
    if (!p->g_can_default || p->g_k == -INFINITY)
        return 0.0;
    double x = p->g_k * kscale - p->g_a * z0;
    if (p->g_c <= EXACT_C_STEP)
        return x >= 0.0 ? 1.0 : 0.0;
    return gsl_cdf_ugaussian_P(x / p->g_c);
}

static void accumulate(const exact_plan *p, exact_raw *raw, double w,
                       const double *cnt, const double *loss, double pg)
{
    double tail = 0.0;
    for (int k = 0; k <= p->n_loans; k++)
        raw->count[k] += w * cnt[k];
    for (int j = 0; j < p->n_values; j++) {
        raw->loss[j] += w * loss[j];
        if (p->senior_index >= 0 && j >= p->senior_index)
            tail += loss[j];
    }
    raw->guarantor += w * pg;
    raw->joint += w * pg * tail;
}

/* Everything given W (kscale = 1 / sqrt(W)), added into raw. */
static ipabs_status integrate_z0(const exact_plan *p, exact_ws *ws,
                                 double kscale, exact_raw *raw,
                                 ipabs_error *err)
{
    const exact_rule *r = &ws->z_base;
    if (p->steep0) {
        int n = z0_breaks(p, kscale, ws->breaks);
        ipabs_status s = exact_rule_build(&ws->z_axis, ws->gl, ws->m, ws->breaks,
                                          n, &ws->z0_rule, err);
        if (s != IPABS_OK)
            return s;
        r = &ws->z0_rule;
    }
    for (int i = 0; i < r->n; i++) {
        const double *cnt, *loss;
        ipabs_status s = node_law(p, ws, kscale, r->x[i], &cnt, &loss, err);
        if (s != IPABS_OK)
            return s;
        accumulate(p, raw, r->w[i], cnt, loss, guarantor_pd(p, kscale, r->x[i]));
    }
    return IPABS_OK;
}

static void raw_zero(const exact_plan *p, exact_raw *raw)
{
    memset(raw->count, 0, ((size_t)p->n_loans + 1) * sizeof(double));
    memset(raw->loss, 0, (size_t)p->n_values * sizeof(double));
    raw->guarantor = raw->joint = 0.0;
}

/* raw += w part. */
static void raw_add(const exact_plan *p, exact_raw *raw, double w,
                    const exact_raw *part)
{
    for (int k = 0; k <= p->n_loans; k++)
        raw->count[k] += w * part->count[k];
    for (int j = 0; j < p->n_values; j++)
        raw->loss[j] += w * part->loss[j];
    raw->guarantor += w * part->guarantor;
    raw->joint += w * part->joint;
}

/* Student-t: W = nu / V, V = e^t; the threshold k / sqrt(W) = k sqrt(V / nu).
 * Each W node's Z_0 integral is summed on its own and then added, so that
 * no sum runs over the whole product grid (its rounding would grow with
 * the square of the order). */
static ipabs_status integrate_w(const exact_plan *p, exact_ws *ws,
                                exact_raw *raw, ipabs_error *err)
{
    if (!p->student)
        return integrate_z0(p, ws, 1.0, raw, err);
    ipabs_status s = exact_rule_build(&ws->w_axis, ws->gl, ws->m, ws->breaks, 0,
                                      &ws->w_rule, err);
    for (int i = 0; s == IPABS_OK && i < ws->w_rule.n; i++) {
        double kscale = exp(0.5 * ws->w_rule.x[i]) / sqrt(p->df);
        raw_zero(p, &ws->given_w);
        s = integrate_z0(p, ws, kscale, &ws->given_w, err);
        raw_add(p, raw, ws->w_rule.w[i], &ws->given_w);
    }
    return s;
}

ipabs_status exact_raw_init(const exact_plan *p, exact_raw *raw)
{
    raw->count = calloc((size_t)p->n_loans + 1, sizeof(double));
    raw->loss = calloc((size_t)p->n_values, sizeof(double));
    raw->guarantor = raw->joint = 0.0;
    return raw->count && raw->loss ? IPABS_OK : IPABS_ENOMEM;
}

void exact_raw_release(exact_raw *raw)
{
    free(raw->count);
    free(raw->loss);
    raw->count = raw->loss = NULL;
}

double exact_work(const exact_plan *p, int m)
{
    exact_axis z, w;
    exact_axis_normal(&z);
    double nz = (double)(z.n_edges - 1) * m, nw = 1.0;
    if (p->student)
        nw = (exact_axis_chisq(&w, p->df, NULL) == IPABS_OK ? w.n_edges - 1
                                                           : EXACT_MAX_EDGES) * (double)m;
    double node = p->blocks[0].work + p->combine_work + p->n_values + p->n_loans;
    for (int b = 1; b < p->n_blocks; b++)
        node += nz * (p->blocks[b].work + p->blocks[b].support + p->blocks[b].n_loans);
    return nw * nz * node;
}

ipabs_status exact_integrate(const exact_plan *p, int m, exact_raw *raw,
                             ipabs_error *err)
{
    exact_ws ws;
    raw_zero(p, raw);
    ipabs_status s = ws_init(p, m, &ws, err);
    if (s == IPABS_OK)
        s = integrate_w(p, &ws, raw, err);
    ws_release(p, &ws);
    return s;
}
