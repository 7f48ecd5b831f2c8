/*
 * main.c — `ipabs`: dispatch to a command; option parsing shared by all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/workbook.h"

static const char usage[] =
    "usage: ipabs COMMAND SCENARIO.yaml [options]\n"
    "commands:\n"
    "  check     validate the scenario and print a deal summary\n"
    "  cashflow  one realisation, every transfer:   -o DIR [--default LOAN@PERIOD[:REALISATION]]...\n"
    "                                               [--guarantor-default PERIOD]\n"
    "  run       Monte Carlo:                       -o DIR [--paths N] [--seed S] [--threads T]\n"
    "                                               [--quiet] [--check-exact] [--importance auto|off]\n"
    "  replay    re-create one path of a run:       --path K -o DIR [--seed S] [--importance auto|off]\n"
    "  exact     exact default and static loss laws: -o DIR [--horizon PERIOD]\n"
    "  plot      SVG charts of a result directory:  ipabs plot DIR\n"
    "  sweep     Monte Carlo over a grid, one seed: -o DIR --grid KEY=V1,V2,... [--grid ...]\n"
    "                                               [--paths N] [--seed S] [--threads T]\n"
    "  breakeven breakeven default rates (BDR):     -o DIR\n"
    "  rate      BDR, target default rates, rating: -o DIR [--paths N] [--seed S] [--threads T]\n"
    "run, sweep and rate also take --xlsx FILE (an Excel workbook of the results)\n"
    "  and --simd auto|scalar|base|avx2|avx512 (the draw kernel; the same results)\n"
    "options for every command: --set KEY=VALUE (override a scenario key, e.g.\n"
    "  --set model.pd_multiplier=2); --csv-bom yes|no (CSVs begin with a UTF-8\n"
    "  byte-order mark unless no); see docs/cli.md\n";

/* Largest --paths (and --path index + 1): the scenario's own limit on
 * simulation.paths, beyond which a double no longer counts paths exactly. */
/* Largest period an option may name before the deal is read: no legal
 * final exceeds it (loan terms are at most 600 periods, lags 600). */
#define CLI_MAX_PERIOD 100000LL

#define CLI_MAX_PATHS 1000000000000000LL

/* An integer in [lo, hi]; otherwise one line naming the option and the
 * allowed range. */
static bool parse_ll(const char *opt, const char *text, long long lo, long long hi,
                     long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        char shown[48];
        snprintf(shown, sizeof shown, "%s", text);
        fprintf(stderr, "ipabs: %s expects an integer from %lld to %lld (got '%s%s')\n",
                opt, lo, hi, shown, strlen(text) >= sizeof shown ? "..." : "");
        return false;
    }
    *out = v;
    return true;
}

static bool parse_u64(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        fprintf(stderr, "ipabs: %s expects an integer from 0 to 18446744073709551615 "
                        "(2^64 - 1) (got '%s')\n", opt, text);
        return false;
    }
    *out = v;
    return true;
}

static bool push(const char **list, int *n, const char *opt, const char *value)
{
    if (*n >= CLI_MAX_LIST) {
        fprintf(stderr, "ipabs: too many %s options (at most %d)\n", opt, CLI_MAX_LIST);
        return false;
    }
    list[(*n)++] = value;
    return true;
}

/* One option with its value; returns false on a usage error. */
static bool option(cli_args *a, const char *opt, const char *val)
{
    long long v;
    if (strcmp(opt, "-o") == 0 || strcmp(opt, "--out") == 0)
        a->out_dir = val;
    else if (strcmp(opt, "--set") == 0)
        return push(a->sets, &a->n_sets, opt, val);
    else if (strcmp(opt, "--default") == 0)
        return push(a->defaults, &a->n_defaults, opt, val);
    else if (strcmp(opt, "--xlsx") == 0)
        a->xlsx = val;
    else if (strcmp(opt, "--grid") == 0)
        return push(a->grids, &a->n_grids, opt, val);
    else if (strcmp(opt, "--guarantor-default") == 0) {
        if (!parse_ll(opt, val, 1, CLI_MAX_PERIOD, &v))
            return false;
        a->guarantor_default = (int)v;
    } else if (strcmp(opt, "--paths") == 0)
        return parse_ll(opt, val, 1, CLI_MAX_PATHS, &a->paths);
    else if (strcmp(opt, "--seed") == 0) {
        a->has_seed = true;
        return parse_u64(opt, val, &a->seed);
    } else if (strcmp(opt, "--threads") == 0) {
        if (!parse_ll(opt, val, 1, 1024, &v))
            return false;
        a->threads = (int)v;
    } else if (strcmp(opt, "--simd") == 0) {
        a->simd = ipabs_mc_simd_of(val);
        if (a->simd < 0) {
            fprintf(stderr, "ipabs: --simd expects auto, scalar, base, avx2 or avx512 "
                            "(got '%s')\n", val);
            return false;
        }
    } else if (strcmp(opt, "--csv-bom") == 0) {
        if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0) {
            fprintf(stderr, "ipabs: --csv-bom expects yes or no (got '%s')\n", val);
            return false;
        }
        a->no_bom = strcmp(val, "no") == 0;
    } else if (strcmp(opt, "--importance") == 0) {
        /* The same as the scenario key, so that replay and sweep read it
         * the way run does (docs/cli.md). */
        if (strcmp(val, "auto") != 0 && strcmp(val, "off") != 0) {
            fprintf(stderr, "ipabs: --importance expects auto or off (got '%s')\n", val);
            return false;
        }
        return push(a->sets, &a->n_sets, opt,
                    strcmp(val, "auto") == 0 ? "model.importance=auto"
                                             : "model.importance=off");
    } else if (strcmp(opt, "--path") == 0)
        return parse_ll(opt, val, 0, CLI_MAX_PATHS - 1, &a->path);
    else if (strcmp(opt, "--horizon") == 0) {
        if (!parse_ll(opt, val, 1, CLI_MAX_PERIOD, &v))
            return false;
        a->horizon = (int)v;
    } else {
        fprintf(stderr, "ipabs: unknown option '%s'\n%s", opt, usage);
        return false;
    }
    return true;
}

static bool takes_value(const char *opt)
{
    static const char *const names[] = {"-o", "--out", "--set", "--default",
                                        "--guarantor-default", "--paths", "--seed",
                                        "--threads", "--path", "--horizon", "--grid", "--xlsx",
                                        "--csv-bom", "--importance", "--simd", NULL};
    for (const char *const *n = names; *n != NULL; n++)
        if (strcmp(opt, *n) == 0)
            return true;
    return false;
}

static bool is_flag(cli_args *a, const char *arg)
{
    if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0)
        a->quiet = true;
    else if (strcmp(arg, "--check-exact") == 0)
        a->check_exact = true;
    else
        return false;
    return true;
}

bool cli_parse(int argc, char **argv, cli_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (is_flag(a, arg))
            continue;
        if (arg[0] == '-' && arg[1] != '\0') {
            const char *eq = strchr(arg, '=');
            if (strncmp(arg, "--", 2) == 0 && eq != NULL && strncmp(arg, "--set", 5) != 0) {
                char opt[64];
                snprintf(opt, sizeof opt, "%.*s", (int)(eq - arg), arg);
                if (!option(a, opt, eq + 1))
                    return false;
                continue;
            }
            if (!takes_value(arg)) {
                fprintf(stderr, "ipabs: unknown option '%s'\n%s", arg, usage);
                return false;
            }
            if (i + 1 >= argc) {
                fprintf(stderr, "ipabs: option %s needs a value\n", arg);
                return false;
            }
            if (!option(a, arg, argv[++i]))
                return false;
        } else if (a->scenario == NULL) {
            a->scenario = arg;
        } else {
            fprintf(stderr, "ipabs: unexpected argument '%s'\n", arg);
            return false;
        }
    }
    if (a->scenario == NULL) {
        fprintf(stderr, "ipabs: %s needs a %s\n%s", a->command,
                strcmp(a->command, "plot") == 0 ? "result directory" : "scenario file", usage);
        return false;
    }
    return true;
}

/* Print every error of a load; the exit code of its status.  A scenario or
 * tape that cannot be read is the user's input error. */
static int report_load(ipabs_status s, ipabs_errors *errors)
{
    ipabs_errors_print(stderr, errors);
    ipabs_errors_clear(errors);
    return s == IPABS_EIO ? 2 : ipabs_status_exit_code(s);
}

ipabs_deal *cli_load(const cli_args *a, int *exit_code)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(a->scenario, a->sets, a->n_sets, &deal, &errors);
    *exit_code = report_load(s, &errors);
    return deal;
}

ipabs_session *cli_open(const cli_args *a, int *exit_code)
{
    ipabs_session *session = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_session_open(a->scenario, a->sets, a->n_sets, &session, &errors);
    *exit_code = report_load(s, &errors);
    return session;
}

int cli_fail(const ipabs_error *err)
{
    fputs("ipabs: ", stderr);
    ipabs_error_print(stderr, err);
    return ipabs_status_exit_code(err->code);
}

int cli_workbook(const cli_args *a, int kind)
{
    if (a->xlsx == NULL)
        return 0;
    ipabs_error err = {0};
    if (ipabs_workbook_write(a->xlsx, a->out_dir, (ipabs_result_kind)kind, &err) != IPABS_OK)
        return cli_fail(&err);
    if (!a->quiet)
        printf("wrote %s\n", a->xlsx);
    return 0;
}

int main(int argc, char **argv)
{
    ipabs_init();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ipabs %s\n", IPABS_VERSION);
        return 0;
    }
    cli_args a = {.command = argv[1], .path = -1};
    static const struct {
        const char *name;
        int (*run)(const cli_args *);
    } commands[] = {{"check", cmd_check}, {"cashflow", cmd_cashflow},
                    {"run", cmd_run}, {"replay", cmd_replay}, {"sweep", cmd_sweep},
                    {"exact", cmd_exact}, {"plot", cmd_plot},
                    {"breakeven", cmd_breakeven}, {"rate", cmd_rate}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return cli_parse(argc - 2, argv + 2, &a) ? commands[i].run(&a) : 2;
    fprintf(stderr, "ipabs: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
