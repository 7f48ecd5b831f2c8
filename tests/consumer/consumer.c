/*
 * consumer.c — a program outside ipabs's source tree that uses only the
 * installed embedding API (ipabs/ipabs.h), built by tests/consumer/run.sh
 * through pkg-config and through find_package(ipabs CONFIG).
 *
 * usage: consumer SCENARIO.yaml PATHS SEED
 * Prints the senior class's expected loss and its standard error as
 * summary.csv writes them (%.17g), the number of cdr rows, and the error a
 * bad override gives, so that the script can compare them with the CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipabs/ipabs.h>

static int fail(const char *what, const ipabs_error *err)
{
    fprintf(stderr, "consumer: %s: ", what);
    ipabs_error_print(stderr, err);
    return 1;
}

static int print_senior_loss(const ipabs_results *r)
{
    const ipabs_result *t = ipabs_results_get(r, "summary");
    int cs = ipabs_result_find(t, "subject"), cm = ipabs_result_find(t, "measure");
    int cv = ipabs_result_find(t, "value"), ce = ipabs_result_find(t, "std_error");
    const char *const *subject = ipabs_result_texts(t, cs);
    const char *const *measure = ipabs_result_texts(t, cm);
    const double *value = ipabs_result_doubles(t, cv);
    const double *se = ipabs_result_doubles(t, ce);
    if (subject == NULL || measure == NULL || value == NULL || se == NULL)
        return 1;
    for (long i = 0; i < ipabs_result_rows(t); i++)
        if (strcmp(subject[i], "senior") == 0 && strcmp(measure[i], "expected_loss") == 0) {
            printf("senior expected_loss %.17g %.17g\n", value[i], se[i]);
            return 0;
        }
    return 1;
}

/* A bad override must come back as an input error naming --set. */
static int print_bad_override(const char *path)
{
    const char *sets[] = {"model.correlation=abc"};
    ipabs_session *s = NULL;
    ipabs_errors errors = {0};
    ipabs_status st = ipabs_session_open(path, sets, 1, &s, &errors);
    if (st != IPABS_EINPUT || s != NULL || errors.count == 0)
        return 1;
    printf("error ");
    ipabs_error_print(stdout, &errors.items[0]);
    ipabs_errors_clear(&errors);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: consumer SCENARIO.yaml PATHS SEED\n", stderr);
        return 2;
    }
    ipabs_init();
    printf("ipabs %s\n", ipabs_version());
    ipabs_session *s = NULL;
    ipabs_errors errors = {0};
    if (ipabs_session_open(argv[1], NULL, 0, &s, &errors) != IPABS_OK) {
        int code = fail("open", &errors.items[0]);
        ipabs_errors_clear(&errors);
        return code;
    }
    ipabs_run_params p = {.paths = atoll(argv[2]), .has_seed = 1,
                          .seed = strtoull(argv[3], NULL, 10), .threads = 2};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    int code = ipabs_session_run(s, &p, &r, &err) != IPABS_OK ? fail("run", &err) : 0;
    if (code == 0)
        code = print_senior_loss(r);
    if (code == 0)
        printf("cdr rows %ld\n", ipabs_result_rows(ipabs_results_get(r, "cdr")));
    if (code == 0)
        code = print_bad_override(argv[1]);
    ipabs_results_free(r);
    ipabs_session_free(s);
    return code;
}
