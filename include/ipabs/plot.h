/*
 * ipabs/plot.h — charts of a result directory as SVG files, drawn with
 * PLplot's SVG driver (no display needed), next to the CSVs they show:
 *
 *   loss_distribution.svg  the static pool loss distribution
 *   default_count.svg      the number of defaults
 *   cdr.svg                the expected cumulative default ratio by period
 *   sweep-<measure>.svg    each sweep measure against the first grid key
 *   breakeven.svg          the breakeven default rate by stress scenario
 *
 * Each is written to a temporary file and renamed into place.
 */
#ifndef IPABS_PLOT_H
#define IPABS_PLOT_H

#include "ipabs/error.h"

/* Render every chart whose CSV is in DIR; *written gets the number of SVG
 * files written (0 is an input error: nothing to plot).  Errors:
 * IPABS_EINPUT (no result CSV in DIR, or one unreadable as a result),
 * IPABS_EIO, IPABS_ENOMEM. */
ipabs_status ipabs_plot_dir(const char *dir, int *written, ipabs_error *err);

#endif
