/*
 * spread_util.h — checking reported standard errors against the spread of
 * estimates over independent seeds (issue 12, item 3): the same statistic
 * for the plain, the weighted and the engine's expected shortfall.
 */
#ifndef IPABS_TEST_SPREAD_UTIL_H
#define IPABS_TEST_SPREAD_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

/* R estimates and their reported errors, summarised. */
typedef struct spread_check {
    double mean_est, mean_se; /* means over the seeds */
    double var_se;            /* variance of the reported errors */
    double spread;            /* standard deviation of the estimates */
    double tol;               /* allowed |log(se / spread)|: 4 sampling errors of
                                 log(spread) (1/(2(R-1))) and of a reported error (cv²) */
} spread_check;

/* Summarise, and expect every reported error within tol of the spread in
 * log; `what` names the measure in the failure messages. */
static inline spread_check spread_expect(const double *est, const double *se, int R,
                                         const char *what)
{
    spread_check c = {0};
    double v_est = 0.0;
    for (int r = 0; r < R; r++)
        c.mean_est += est[r] / R, c.mean_se += se[r] / R;
    for (int r = 0; r < R; r++) {
        v_est += (est[r] - c.mean_est) * (est[r] - c.mean_est) / (R - 1);
        c.var_se += (se[r] - c.mean_se) * (se[r] - c.mean_se) / (R - 1);
    }
    c.spread = sqrt(v_est);
    double cv = sqrt(c.var_se) / c.mean_se;
    c.tol = 4.0 * sqrt(1.0 / (2.0 * (R - 1)) + cv * cv);
    for (int r = 0; r < R; r++)
        cr_expect(fabs(log(se[r] / c.spread)) <= c.tol,
                  "%s seed %d: reported %g, observed spread %g (tolerance %.3f in log)", what,
                  r, se[r], c.spread, c.tol);
    return c;
}

#endif
