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

#endif
