/*
 * cashflow_util.h — what the waterfall tests share: run one realisation
 * (index it, compute every period, fail the test on an error), a period's
 * flows by number, and a comparison to a millionth of a yuan.
 */
#ifndef IPABS_TEST_CASHFLOW_UTIL_H
#define IPABS_TEST_CASHFLOW_UTIL_H

#include <criterion/criterion.h>
#include <math.h>

#include "ipabs/waterfall.h"

static inline ipabs_cashflow *run(const ipabs_deal *d, ipabs_realisation *r)
{
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    ipabs_realisation_index(d, r);
    ipabs_status s = ipabs_cashflow_compute(d, r, &cf, &err);
    cr_assert_eq(s, IPABS_OK, "%s", err.message);
    return cf;
}

#define P(cf, t) (&(cf)->periods[(t) - 1])
#define NEAR(a, b) cr_assert(fabs((a) - (b)) < 1e-6, "%s = %.10f, expected %.10f", #a, (double)(a), (double)(b))

#endif
