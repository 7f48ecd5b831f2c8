/*
 * tmpdir.h — a fresh temporary directory per test (Criterion runs each
 * test in its own process, so the static template is fresh in each), and
 * its removal afterwards.  Use .init = tmpdir_setup, .fini = tmpdir_teardown.
 */
#ifndef IPABS_TEST_TMPDIR_H
#define IPABS_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipabs/error.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"

static char dir[] = "/tmp/ipabs-test-XXXXXX";

static inline void tmpdir_setup(void)
{
    ipabs_init();
    cr_assert_not_null(mkdtemp(dir));
}

static inline void tmpdir_teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
}

/* Run the reference deal (paths, seed 7, 2 threads) and write its result
 * CSVs into dir, as `ipabs run` does. */
static inline void tmpdir_reference_run(long long paths)
{
    const char *scenario = IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml";
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(scenario, NULL, 0, &deal, &errors), IPABS_OK);
    ipabs_mc_options opt = {paths, 7, 2, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_mc_run(deal, &opt, &r, &err), IPABS_OK, "%s", err.message);
    ipabs_run_info info = {"test", scenario, "0", NULL, NULL, false};
    cr_assert_eq(ipabs_mc_write(deal, r, &info, dir, &err), IPABS_OK, "%s", err.message);
    ipabs_mc_result_free(r);
    ipabs_deal_free(deal);
}

#endif
