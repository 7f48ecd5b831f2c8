/*
 * fuzz_common.h — shared by the libFuzzer harnesses (tests/fuzz/README.md):
 * a private scratch directory (in /dev/shm when it exists, for speed) and
 * writing the fuzzer's bytes to a file in it, since every ipabs reader
 * takes a path.  A harness aborts (which libFuzzer reports as a crash)
 * when ipabs answers with an internal error: the rule of issue 13 is that
 * whatever `check` accepts runs without one.
 */
#ifndef IPABS_FUZZ_COMMON_H
#define IPABS_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "ipabs/error.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"

static char fuzz_dir[256];

/* ---- libfyaml objects that ipabs owns ------------------------------------ *
 * LeakSanitizer's reports inside libfyaml are suppressed (tests/fuzz/lsan.supp:
 * libfyaml 0.7.12 leaks on some quoted scalars, upstream issue 233), which
 * would also hide a document or diagnostic object that ipabs forgot to
 * destroy.  So the harnesses are linked with --wrap for the calls that
 * create and destroy them (tests/fuzz/CMakeLists.txt), count the live
 * ones, and abort when a load leaves any behind.  Harness-only state. */
struct fy_document *__real_fy_document_build_from_string(const struct fy_parse_cfg *cfg,
                                                         const char *str, size_t len);
void __real_fy_document_destroy(struct fy_document *fyd);
struct fy_diag *__real_fy_diag_create(const struct fy_diag_cfg *cfg);
void __real_fy_diag_destroy(struct fy_diag *diag);
struct fy_document *__wrap_fy_document_build_from_string(const struct fy_parse_cfg *cfg,
                                                         const char *str, size_t len);
void __wrap_fy_document_destroy(struct fy_document *fyd);
struct fy_diag *__wrap_fy_diag_create(const struct fy_diag_cfg *cfg);
void __wrap_fy_diag_destroy(struct fy_diag *diag);

static long fuzz_live_fy;

struct fy_document *__wrap_fy_document_build_from_string(const struct fy_parse_cfg *cfg,
                                                         const char *str, size_t len)
{
    struct fy_document *d = __real_fy_document_build_from_string(cfg, str, len);
    fuzz_live_fy += d != NULL;
    return d;
}

void __wrap_fy_document_destroy(struct fy_document *fyd)
{
    fuzz_live_fy -= fyd != NULL;
    __real_fy_document_destroy(fyd);
}

struct fy_diag *__wrap_fy_diag_create(const struct fy_diag_cfg *cfg)
{
    struct fy_diag *d = __real_fy_diag_create(cfg);
    fuzz_live_fy += d != NULL;
    return d;
}

void __wrap_fy_diag_destroy(struct fy_diag *diag)
{
    fuzz_live_fy -= diag != NULL;
    __real_fy_diag_destroy(diag);
}

static inline void fuzz_check_fy_released(void)
{
    if (fuzz_live_fy != 0) {
        fprintf(stderr, "%ld libfyaml documents or diagnostics not destroyed\n", fuzz_live_fy);
        abort();
    }
}

/* At exit: the scratch directory is flat (the harnesses write files only). */
static void fuzz_cleanup(void)
{
    DIR *d = opendir(fuzz_dir);
    struct dirent *e;
    char path[600];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, e->d_name);
        remove(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(fuzz_dir);
}

static inline void fuzz_setup(void)
{
    ipabs_init();
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/ipabs-fuzz-XXXXXX", base);
    if (mkdtemp(fuzz_dir) == NULL)
        abort();
    atexit(fuzz_cleanup);
}

/* "<scratch>/<name>" in a static buffer. */
static inline const char *fuzz_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", fuzz_dir, name);
    return buf;
}

static inline void fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    FILE *f = fopen(fuzz_path(name), "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
}

/* Copy a file of the source tree into the scratch directory. */
static inline void fuzz_copy(const char *from, const char *name)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        abort();
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    fuzz_write(name, buf, n);
}

/* A deal that loaded must run: no defaults, then every loan defaulting in
 * its first period with the guarantor failing in period 1.  An internal
 * error (a broken conservation identity, a NaN) is a finding. */
static inline void fuzz_run_deal(const ipabs_deal *deal)
{
    ipabs_realisation *r = ipabs_realisation_alloc(deal);
    if (r == NULL)
        return;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int i = 0; i < deal->n_loans; i++)
                r->default_period[i] = 1;
            r->guarantor_default_period = 1;
        }
        ipabs_realisation_index(deal, r);
        ipabs_cashflow *cf = NULL;
        ipabs_error err = {0};
        ipabs_status s = ipabs_cashflow_compute(deal, r, &cf, &err);
        ipabs_cashflow_free(cf);
        if (s == IPABS_EINTERNAL) {
            fprintf(stderr, "internal error on a deal that passed check: %s\n", err.message);
            abort();
        }
    }
    ipabs_realisation_free(r);
}

/* Load the scenario at path with overrides; on success run the deal. */
static inline void fuzz_load(const char *path, const char *const *sets, int n_sets)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(path, sets, n_sets, &deal, &errors);
    if (s == IPABS_OK) {
        fuzz_run_deal(deal);
        ipabs_deal_free(deal);
    } else if (errors.count == 0 && errors.dropped == 0) {
        fprintf(stderr, "a failed load with no error message\n");
        abort();
    }
    for (size_t i = 0; i < errors.count; i++)
        if (strchr(errors.items[i].message, '\n') != NULL) {
            fprintf(stderr, "an error message over two lines: %s\n", errors.items[i].message);
            abort();
        }
    ipabs_errors_clear(&errors);
    fuzz_check_fy_released();
}

#endif
