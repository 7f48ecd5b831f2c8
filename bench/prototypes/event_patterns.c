/*
 * event_patterns.c — a measurement for a design question, not part of the
 * build (bench/README.md, "Targets out of reach"): how often do a deal's
 * event paths repeat the same event pattern (the defaulted loans with
 * their default periods, and the guarantor's default period)?
 *
 * With the IP pledged to the guarantor (the reference deal), the plan's
 * and the classes' cash flows do not depend on the recovery draws while
 * the guarantor's capacity lasts: the proceeds are the guarantor's.  A
 * cache keyed by the pattern would then replace the waterfall and the
 * yields of every repeat, leaving only the recovery-dependent measures
 * (guarantor recoveries and P&L, pool credit loss: O(defaults)) per path.
 * This program draws the engine's own realisations
 * (ipabs_mc_sample_only) and counts distinct patterns in a hash set.
 *
 *   gcc -O2 -std=c17 -Iinclude bench/prototypes/event_patterns.c \
 *       build/libipabs.a -lgsl -lgslcblas -lfyaml -lxlsxwriter -lplplot \
 *       -lcsv -lm -fopenmp -o event_patterns
 *   ./event_patterns scenarios/shenyang-ip-abs.yaml 1000000
 *
 * Hash collisions (64-bit keys) could only undercount distinct patterns by
 * a negligible amount.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "ipabs/model.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"
#define SLOTS (1u << 22)
typedef struct { uint64_t *keys; long n, distinct, big; int n_loans; } acc;
static uint64_t mix(uint64_t h, uint64_t x) { h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); return h * 0xff51afd7ed558ccdULL; }
static void visit(void *ctx, uint64_t path, const ipabs_realisation *r) {
    (void)path; acc *a = ctx; a->n++;
    uint64_t h = mix(1469598103934665603ULL, (uint64_t)r->guarantor_default_period);
    for (int j = 0; j < r->n_defaults; j++) { int i = r->order[j]; h = mix(h, ((uint64_t)i << 16) | (uint64_t)r->default_period[i]); }
    if (h == 0) h = 1;
    uint32_t s = (uint32_t)(h >> 40) & (SLOTS - 1);
    while (a->keys[s] != 0 && a->keys[s] != h) s = (s + 1) & (SLOTS - 1);
    if (a->keys[s] == 0) { a->keys[s] = h; a->distinct++; }
}
int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: event_patterns SCENARIO PATHS\n");
        return 2;
    }
    ipabs_init();
    ipabs_error err = {0}; ipabs_errors errs = {0}; ipabs_deal *deal = NULL;
    if (ipabs_scenario_load(argv[1], NULL, 0, &deal, &errs) != IPABS_OK) return 2;
    ipabs_model_plan *plan = NULL;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK) return 2;
    acc a = {calloc(SLOTS, 8), 0, 0, 0, deal->n_loans}; long long d, g;
    ipabs_mc_sample_only(deal, plan, 20261127, atoll(argv[2]), 0, visit, &a, &d, &g, &err);
    printf("%s paths %s: event paths %ld, distinct event patterns %ld, repeats %.1f%%\n",
           argv[1], argv[2], a.n, a.distinct, 100.0 * (a.n - a.distinct) / a.n);
    return 0;
}
