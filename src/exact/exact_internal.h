/*
 * exact_internal.h — the parts of the exact module (not installed):
 *
 *   exact_plan.c      groups of identical loans, blocks (one per factor the
 *                     loans load on beyond Z_0), and the precomputed
 *                     convolution plans on the loss support (exact atoms or
 *                     a lattice);
 *   exact_rule.c      composite Gauss–Legendre rules on the factor axes
 *                     (standard normal Z, log of the chi-square variable);
 *   exact_eval.c      conditional distributions at a node and their
 *                     integration over the factors;
 *   exact_measures.c  measures from the integrated distributions;
 *   exact.c           the public entry point and the order doubling;
 *   exact_write.c     the CSV output.
 *
 * Everything here is built once per call of ipabs_exact_compute and is
 * read-only afterwards, except the workspace, which one integration owns.
 */
#ifndef IPABS_EXACT_INTERNAL_H
#define IPABS_EXACT_INTERNAL_H

#include <stdbool.h>

#include <gsl/gsl_integration.h>

#include "ipabs/exact.h"

/* Idiosyncratic weight below which a conditional PD is a step function. */
#define EXACT_C_STEP 1e-9
/* Width (in factor units) of a conditional PD's transition below which
 * the rule gets breakpoints around it. */
#define EXACT_STEEP 0.5
/* Most breakpoints one rule takes (7 per steep group). */
#define EXACT_MAX_BREAKS 70
/* Groups up to this size get their binomial law by exact recursion,
 * larger ones through log-binomial coefficients. */
#define EXACT_BINOM_DIRECT 64
/* Budget of the exact atom representation: total pair operations per node
 * and largest support; beyond either the loss goes onto a lattice. */
#define EXACT_ATOM_WORK (1L << 22)
#define EXACT_ATOM_SUPPORT (1 << 18)
/* Lattice of the fallback: pool balance / EXACT_LATTICE_SLOTS. */
#define EXACT_LATTICE_SLOTS 65536
/* Atoms closer than this fraction of the pool balance are one atom. */
#define EXACT_MERGE_TOL 1e-12
/* Most base panels of an axis. */
#define EXACT_MAX_EDGES 128
/* Work (pair operations) one order may cost; the first two orders
 * together may cost EXACT_WORK_LIMIT. */
#define EXACT_WORK_BUDGET 1.5e10
#define EXACT_WORK_LIMIT 4e10

/* Loans that are interchangeable: same block, loadings, threshold and
 * static loss.  A group of m loans defaults Binomial(m, p) given the
 * factors. */
typedef struct exact_group {
    int block;        /* index into plan->blocks */
    int m;            /* number of loans */
    double k;         /* threshold F^-1(cumPD(min(H, term))) */
    double a, s, c;   /* global, sector and idiosyncratic weights */
    double loss;      /* static loss of one loan */
    double width0;    /* transition width in Z_0 once Z_f is integrated out */
    double widthf;    /* transition width in Z_f */
    double *ln_choose;/* m + 1 log-binomial coefficients, NULL if m small */
} exact_group;

/* out = a (*) b on two supports: out[idx[j nb + l]] += a[j] b[l], or on a
 * lattice (idx NULL) out[j + l stride] += a[j] b[l]. */
typedef struct exact_conv {
    int na, nb, nc;
    int *idx;
    int stride;
} exact_conv;

/* Loans that are conditionally independent given Z_0 (and W) alone: block
 * 0 loads on Z_0 only; block b > 0 on Z_0 and one sector factor. */
typedef struct exact_block {
    int first, n_groups;  /* groups [first, first + n_groups) */
    int n_loans;
    int support;          /* size of the block's loss support */
    exact_conv *steps;    /* one per group: support (*) {0, L, .., m L} */
    double work;          /* pair operations of one conditional law */
    bool steep_f;         /* some group needs breakpoints in Z_f */
} exact_block;

typedef struct exact_plan {
    int n_loans, horizon;
    double pool;
    bool student;
    double df;
    int n_groups;
    exact_group *groups;
    int n_blocks;           /* block 0 always exists (maybe empty) */
    exact_block *blocks;
    exact_conv *combine;    /* [b - 1]: blocks 0..b-1 (*) block b */
    double combine_work;
    int n_values;           /* final loss support */
    double *values;
    bool lattice;
    double unit;            /* lattice step, 0 for atoms */
    double tol;             /* amounts closer than this are equal */
    int max_chain;          /* largest block support */
    int max_m;              /* largest group */
    bool steep0;            /* some group or the guarantor needs Z_0 breakpoints */
    bool g_can_default;
    double g_k, g_a, g_c, g_width;
    int senior_index;       /* first atom where tranche 0 loses; -1 if none */
} exact_plan;

ipabs_status exact_plan_build(const ipabs_deal *deal, int horizon,
                              exact_plan **out, ipabs_error *err);
void exact_plan_free(exact_plan *p);

/* ---- rules (exact_rule.c) ------------------------------------------------- */

typedef enum exact_axis_kind {
    EXACT_AXIS_NORMAL,    /* Z ~ N(0, 1) on [-8.5, 8.5] */
    EXACT_AXIS_LOG_CHISQ  /* t = ln V, V ~ chi2_nu */
} exact_axis_kind;

typedef struct exact_axis {
    exact_axis_kind kind;
    double nu, log_norm;
    int n_edges;
    double edges[EXACT_MAX_EDGES + 1];
} exact_axis;

typedef struct exact_rule {
    int n, cap;
    double *x, *w;
} exact_rule;

void exact_axis_normal(exact_axis *axis);
ipabs_status exact_axis_chisq(exact_axis *axis, double nu, ipabs_error *err);
/* Points a rule of order m may need on this axis. */
int exact_rule_capacity(const exact_axis *axis, int m);
/* Composite Gauss–Legendre rule of order m on the axis' panels, split at
 * breaks (any order, outside points ignored; the array is sorted in
 * place); weights include the density and sum to 1. */
ipabs_status exact_rule_build(const exact_axis *axis,
                              const gsl_integration_glfixed_table *gl, int m,
                              double *breaks, int n_breaks, exact_rule *r,
                              ipabs_error *err);

/* ---- integration (exact_eval.c) ------------------------------------------- */

/* The integrated laws before any measure is taken. */
typedef struct exact_raw {
    double *count;        /* n_loans + 1 */
    double *loss;         /* plan->n_values */
    double guarantor;     /* P(tau_G <= H) */
    double joint;         /* P(senior loss and tau_G <= H) */
} exact_raw;

ipabs_status exact_raw_init(const exact_plan *p, exact_raw *raw);
void exact_raw_release(exact_raw *raw);
/* Estimated pair operations of one integration at order m. */
double exact_work(const exact_plan *p, int m);
ipabs_status exact_integrate(const exact_plan *p, int m, exact_raw *raw,
                             ipabs_error *err);

/* ---- measures (exact_measures.c) ------------------------------------------ */

/* Fill every measure of r (arrays already allocated) from raw. */
void exact_measures(const ipabs_deal *deal, const exact_plan *p,
                    const exact_raw *raw, ipabs_exact_result *r);
/* Largest change between two results of the same plan: absolute for
 * probabilities, relative for amounts. */
double exact_change(const ipabs_exact_result *a, const ipabs_exact_result *b,
                    double pool);

#endif
