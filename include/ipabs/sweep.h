/*
 * ipabs/sweep.h — stress sweeps: the Monte Carlo at every point of a grid
 * of scenario keys, with the same seed everywhere (common random numbers:
 * the difference between two points is the assumption's effect, not
 * noise).
 *
 * A grid key is any scalar scenario key as written for --set (for example
 * model.correlation or plan.tranches[0].coupon); each point applies the
 * overrides to the scenario file and validates the result as the file.
 */
#ifndef IPABS_SWEEP_H
#define IPABS_SWEEP_H

#include <signal.h>

#include "ipabs/error.h"
#include "ipabs/montecarlo.h"

#define IPABS_SWEEP_MAX_KEYS 8
#define IPABS_SWEEP_MAX_VALUES 64

typedef struct ipabs_sweep_axis {
    char key[128];
    int n_values;
    char values[IPABS_SWEEP_MAX_VALUES][64]; /* as written; validated as numbers */
} ipabs_sweep_axis;

typedef struct ipabs_sweep_grid {
    int n_axes;
    ipabs_sweep_axis axes[IPABS_SWEEP_MAX_KEYS];
} ipabs_sweep_grid;

/* Parse "KEY=V1,V2,..." into a new axis of the grid.  IPABS_EINPUT with a
 * message naming the option when malformed (no '=', empty value, a value
 * that is not a number, too many keys or values, a key given twice). */
ipabs_status ipabs_sweep_add_axis(ipabs_sweep_grid *grid, const char *spec,
                                  ipabs_error *err);

/* Number of grid points (the product of the axes' sizes). */
long ipabs_sweep_points(const ipabs_sweep_grid *grid);

typedef struct ipabs_sweep_options {
    const char *scenario;
    const char *const *sets;  /* overrides applied at every point */
    int n_sets;
    long long paths;          /* 0 = the scenario's */
    int has_seed;
    uint64_t seed;
    int threads;
    volatile sig_atomic_t *stop;
    bool no_bom;              /* true: sweep.csv without the UTF-8 byte-order mark */
    int simd;                 /* the draw kernel, as ipabs_mc_options.simd; 0 = the widest */
} ipabs_sweep_options;

/* Run every point (the last axis varies fastest) and write DIR/sweep.csv:
 * one row per point, one column per grid key, then the headline measures
 * (value and standard error).  Input errors at a point are reported with
 * the point's overrides in *errors.  Errors: IPABS_EINPUT, IPABS_EIO,
 * IPABS_ENOMEM, IPABS_EINTERNAL, IPABS_EINTERRUPTED (completed points are
 * written). */
ipabs_status ipabs_sweep_run(const ipabs_sweep_options *opt,
                             const ipabs_sweep_grid *grid, const char *dir,
                             ipabs_errors *errors);

#endif
