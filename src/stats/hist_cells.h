/*
 * hist_cells.h — where a value falls in a quantile tracker's histogram:
 * its bin over [lo, hi] (values outside go to the end bins), and its cell
 * once an atom is declared (docs/measures.md).  Shared by the plain
 * tracker (stats.c) and the weighted one (wquantiles.c), which must cut
 * values into the same cells for their estimates to agree.
 */
#ifndef IPABS_HIST_CELLS_H
#define IPABS_HIST_CELLS_H

#include <math.h>

#include "ipabs/stats.h"

static inline int hist_bin(double lo, double hi, double x)
{
    double pos = (x - lo) / (hi - lo) * IPABS_HIST_BINS;
    if (!(pos > 0.0))
        return 0;
    if (pos >= IPABS_HIST_BINS)
        return IPABS_HIST_BINS - 1;
    return (int)pos;
}

/* The bin of a declared atom, IPABS_HIST_BINS for none (NaN). */
static inline int hist_atom_bin(double lo, double hi, double atom)
{
    return isnan(atom) ? IPABS_HIST_BINS : hist_bin(lo, hi, atom);
}

/* Cells in increasing order of value: bins below the atom's, its bin's
 * values below the atom, the atom, its bin's values above it, the bins
 * above.  atom_bin is IPABS_HIST_BINS when there is no atom. */
static inline int hist_cell(double lo, double hi, double atom, int atom_bin, double x)
{
    int b = hist_bin(lo, hi, x);
    if (b < atom_bin)
        return b;
    if (b > atom_bin)
        return b + 2;
    return x < atom ? b : (x == atom ? b + 1 : b + 2);
}

#endif
