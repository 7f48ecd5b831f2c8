/*
 * test_priority.c — the priority of payments as data (issue 9, item 3):
 * plan.priority_of_payments is compiled into the deal, the built-in order
 * stated as data gives the same cash flows to the bit, a post-default order
 * pays the senior classes one after the other, and every malformed order
 * is refused with its position.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ipabs/scenario.h"
#include "cashflow_util.h"
#include "ipabs/waterfall.h"
#include "tmpdir.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc((size_t)n + 1, 1);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

static void spit(const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* The A1/A2/A3 scenario with `block` (lines indented under plan:) inserted
 * after its accounts keys, written with its tape into the test's directory.
 * Returns the line of the block's first line. */
static int write_a123(const char *block)
{
    char *yaml = slurp(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml");
    char *tape = slurp(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv");
    const char *anchor = strstr(yaml, "  principal_covers_revenue:");
    cr_assert_not_null(anchor);
    const char *after = strchr(strchr(anchor, '\n') + 1, '\n') + 1; /* two lines */
    int line = 1;
    for (const char *p = yaml; p < after; p++)
        line += *p == '\n';
    size_t head = (size_t)(after - yaml);
    char *out = malloc(strlen(yaml) + strlen(block) + 1);
    memcpy(out, yaml, head);
    strcpy(out + head, block);
    strcat(out, after);
    spit("s.yaml", out);
    spit("shenyang-ip-abs-loans.csv", tape);
    free(out), free(yaml), free(tape);
    return line;
}

static ipabs_status load(ipabs_deal **d, ipabs_errors *errors)
{
    char path[700];
    snprintf(path, sizeof path, "%s/s.yaml", dir);
    return ipabs_scenario_load(path, NULL, 0, d, errors);
}

/* The built-in order, stated as data. */
static const char *const BUILT_IN =
    "  priority_of_payments:\n"
    "    normal:\n"
    "      - taxes\n"
    "      - expenses\n"
    "      - interest: [优先A1, 优先A2, 优先A3]\n"
    "      - deficiency\n"
    "      - principal: [优先A1, 优先A2, 优先A3]\n"
    "      - reimbursement\n"
    "      - reserve\n"
    "      - interest: 次级\n"
    "      - principal: 次级\n"
    "      - residual\n";

Test(priority, built_in_order_as_data_gives_the_same_flows, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    write_a123(BUILT_IN);
    ipabs_deal *given = NULL, *built = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(&given, &errors), IPABS_OK, "%s",
                 errors.count ? errors.items[0].message : "?");
    cr_assert(given->pop_given[IPABS_POP_NORMAL]);
    cr_assert(!given->pop_given[IPABS_POP_ACCELERATED]);
    /* Compiled: names to indexes, `expenses` to one step per expense. */
    const ipabs_pop *p = &given->pop[IPABS_POP_NORMAL];
    cr_assert_eq(p->n_steps, 1 + 4 + 8);
    cr_assert_eq(p->steps[5].op, IPABS_POP_INTEREST);
    cr_assert_eq(p->steps[5].n, 3);
    cr_assert_eq(p->classes[p->steps[5].at + 2], 2);
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml",
                                     NULL, 0, &built, &errors), IPABS_OK);
    cr_assert(!built->pop_given[IPABS_POP_NORMAL]);
    /* A stressed realisation: defaults, the guarantor failing, recoveries. */
    ipabs_realisation *r = ipabs_realisation_alloc(given);
    r->guarantor_default_period = 6;
    const int loans[] = {0, 3, 5, 8};
    const int when[] = {2, 4, 5, 7};
    for (int j = 0; j < 4; j++) {
        r->default_period[loans[j]] = when[j];
        r->realisation[loans[j]] = 0.2 + 0.1 * j;
    }
    ipabs_cashflow *a = run(given, r), *b = run(built, r);
    for (int t = 1; t <= given->legal_final; t++) {
        const ipabs_period_flows *x = &a->periods[t - 1], *y = &b->periods[t - 1];
        cr_assert_eq(x->residual, y->residual, "period %d", t);
        cr_assert_eq(x->topup, y->topup, "period %d", t);
        cr_assert_eq(x->plan_cash_close, y->plan_cash_close, "period %d", t);
        for (int k = 0; k < given->n_tranches; k++) {
            cr_assert_eq(x->interest_paid[k], y->interest_paid[k], "period %d class %d", t, k);
            cr_assert_eq(x->principal_paid[k], y->principal_paid[k], "period %d class %d", t, k);
            cr_assert_eq(x->principal_loss[k], y->principal_loss[k], "period %d class %d", t, k);
        }
    }
    ipabs_cashflow_free(a);
    ipabs_cashflow_free(b);
    ipabs_realisation_free(r);
    ipabs_deal_free(given);
    ipabs_deal_free(built);
}

/* After an event of default (senior interest unpaid) the classes are paid
 * one after the other, interest then principal: as long as 优先A1 is
 * outstanding, 优先A2 and 优先A3 receive nothing, not even interest; with
 * the built-in order they share the interest pro rata. */
Test(priority, post_default_order_pays_the_classes_one_after_the_other,
     .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    write_a123(
        "  priority_of_payments:\n"
        "    after_default:\n"
        "      - taxes\n"
        "      - expenses\n"
        "      - interest: 优先A1\n"
        "      - principal: 优先A1\n"
        "      - interest: 优先A2\n"
        "      - principal: 优先A2\n"
        "      - interest: 优先A3\n"
        "      - principal: 优先A3\n"
        "      - deficiency\n"
        "      - reimbursement\n"
        "      - interest: 次级\n"
        "      - principal: 次级\n"
        "      - residual\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(&d, &errors), IPABS_OK, "%s", errors.count ? errors.items[0].message : "?");
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    /* The guarantor fails at once; every loan but L10 (4,500,000) defaults
     * in period 2 with nothing recovered: L10's 420,000 or so a quarter
     * fall short of the seniors' coupons (504,450 a quarter). */
    r->guarantor_default_period = 1;
    for (int i = 0; i < 9; i++) {
        r->default_period[i] = 2;
        r->realisation[i] = 0.0;
    }
    ipabs_cashflow *cf = run(d, r);
    int after = 0;
    for (int t = 1; t <= d->legal_final; t++) {
        const ipabs_period_flows *f = &cf->periods[t - 1];
        bool short_before = t > 1 && cf->periods[t - 2].interest_due[0] >
                                         cf->periods[t - 2].interest_paid[0] + 1e-6;
        if (!after && short_before)
            after = t;
        if (after && f->balance_close[0] > 0.0) {
            cr_assert_eq(f->interest_paid[1], 0.0, "period %d", t);
            cr_assert_eq(f->interest_paid[2], 0.0, "period %d", t);
            double to_a1 = f->principal_paid[0] + f->interest_paid[0] + f->tax_paid +
                           f->expenses_paid;
            cr_assert(fabs(to_a1 - (f->available + f->topup)) < 1e-6,
                      "period %d: all cash to 优先A1 (%.6f of %.6f)", t, to_a1,
                      f->available + f->topup);
        }
    }
    cr_assert_gt(after, 0, "no event of default");
    /* The built-in order in the same period pays A2 interest pro rata. */
    ipabs_deal *built = NULL;
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml",
                                     NULL, 0, &built, &errors), IPABS_OK);
    ipabs_cashflow *b = run(built, r);
    cr_assert_gt(b->periods[after - 1].interest_paid[1], 0.0);
    ipabs_cashflow_free(b);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
    ipabs_deal_free(built);
}

static bool has(const ipabs_errors *e, int line, int column, const char *text)
{
    for (size_t i = 0; i < e->count; i++)
        if ((line == 0 || e->items[i].line == line) &&
            (column == 0 || e->items[i].column == column) &&
            strstr(e->items[i].message, text) != NULL)
            return true;
    for (size_t i = 0; i < e->count; i++)
        cr_log_info("%d:%d %s", e->items[i].line, e->items[i].column, e->items[i].message);
    return false;
}

/* Every rule of the order, with its position: the block starts at line L
 * ("  priority_of_payments:"), its steps from L + 2.  Columns count
 * characters (优先 is two), as an editor does. */
Test(priority, malformed_orders_are_refused_with_positions, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    int L = write_a123(
        "  priority_of_payments:\n"
        "    normal:\n"
        "      - taxes\n"                             /* L+2 */
        "      - taxes\n"                             /* L+3: twice */
        "      - expenses\n"
        "      - interest: [优先A1, 次级]\n"          /* L+5: senior and sub */
        "      - principal: [优先A1, 优先A9]\n"       /* L+6: no such class */
        "      - fees\n"                              /* L+7: unknown step */
        "      - residual\n"                          /* L+8: not last */
        "      - reimbursement\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(&d, &errors), IPABS_EINPUT);
    cr_assert(has(&errors, L + 3, 9, "taxes is paid twice: already by step 1"));
    cr_assert(has(&errors, L + 5, 26, "senior classes or of sub classes, not both"));
    cr_assert(has(&errors, L + 6, 27, "no tranche named '优先A9' in plan.tranches"));
    cr_assert(has(&errors, L + 7, 9, "unknown step 'fees'; expected taxes, expenses"));
    cr_assert(has(&errors, L + 1, 5, "misses the principal of '优先A2'"));
    cr_assert(has(&errors, L + 1, 5, "misses the interest of '次级'"));
    cr_assert(has(&errors, L + 1, 5, "residual is step 7 of 8; it must be the last"));
    cr_assert(has(&errors, L + 1, 5, "misses the step deficiency"));
    ipabs_errors_clear(&errors);
}

Test(priority, reimbursement_and_deficiency_follow_the_deal, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    int L = write_a123(
        "  priority_of_payments:\n"
        "    after_acceleration:\n"
        "      - taxes\n"
        "      - expenses\n"
        "      - interest: [优先A1, 优先A2, 优先A3]\n"
        "      - principal: [优先A1, 优先A2, 优先A3]\n"
        "      - interest: 次级\n"
        "      - principal: 次级\n"
        "      - residual\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(&d, &errors), IPABS_EINPUT);
    cr_assert(has(&errors, L + 1, 5, "misses the step reimbursement"));
    cr_assert(has(&errors, L + 1, 5, "misses the step deficiency"));
    ipabs_errors_clear(&errors);
}
