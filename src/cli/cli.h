/*
 * cli.h — the `ipabs` command-line program: shared option parsing.
 *
 * Every command takes a scenario, then options.  Usage errors and input
 * errors exit with 2, internal failures with 1, success with 0.
 */
#ifndef IPABS_CLI_H
#define IPABS_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/ipabs.h"

#define CLI_MAX_LIST 256

typedef struct cli_args {
    const char *command;
    const char *scenario;
    const char *out_dir;
    const char *sets[CLI_MAX_LIST];
    int n_sets;
    const char *defaults[CLI_MAX_LIST]; /* cashflow: LOAN@PERIOD[:REALISATION] */
    int n_defaults;
    int guarantor_default;              /* cashflow; 0 = none */
    long long paths;                    /* 0 = the scenario's */
    bool has_seed;
    uint64_t seed;
    int threads;
    int simd;                           /* --simd: draw kernel's lanes; 0 = the widest */
    bool quiet;
    bool check_exact;
    bool no_bom;                        /* --csv-bom no: CSVs without the UTF-8 BOM */
    long long path;                     /* replay; -1 = not given */
    int horizon;                        /* exact; 0 = legal final */
    const char *xlsx;                   /* run, sweep, rate: workbook path */
    const char *grids[CLI_MAX_LIST];    /* sweep: KEY=V1,V2,... */
    int n_grids;
} cli_args;

/* Parse argv after the command name.  On a usage error prints it and
 * returns false. */
bool cli_parse(int argc, char **argv, cli_args *a);

/* Load the scenario with the --set overrides; print every error. */
ipabs_deal *cli_load(const cli_args *a, int *exit_code);

/* The same through the embedding API: a session (ipabs.h). */
ipabs_session *cli_open(const cli_args *a, int *exit_code);

/* True if -o DIR was given; otherwise says so and returns false. */
bool cli_need_out(const cli_args *a);

/* cli_need_out, then cli_load: the prologue of every command that writes
 * results (exit code 2 without -o). */
ipabs_deal *cli_load_with_output(const cli_args *a, int *exit_code);

/* The result set of a command is written all or nothing
 * (ipabs/resultdir.h): cli_out_begin makes the temporary directory beside
 * a->out_dir and returns it (NULL, message printed, *code = 1 on failure);
 * cli_out_finish puts it in place when code is 0 (done), 3 (written, the
 * exact check failed) or 130 (interrupted, partial set marked), removes it
 * otherwise, and returns code, or 1 if the commit failed. */
struct ipabs_result_dir;
const char *cli_out_begin(const cli_args *a, struct ipabs_result_dir *d, int *code);
int cli_out_finish(struct ipabs_result_dir *d, int code);

/* Print an error and return its exit code. */
int cli_fail(const ipabs_error *err);

int cmd_check(const cli_args *a);
int cmd_cashflow(const cli_args *a);
int cmd_run(const cli_args *a);
int cmd_replay(const cli_args *a);
int cmd_sweep(const cli_args *a);
int cmd_exact(const cli_args *a);
int cmd_plot(const cli_args *a);
int cmd_breakeven(const cli_args *a);
int cmd_rate(const cli_args *a);

/* --xlsx: the workbook of the CSVs just written in a->out_dir; returns an
 * exit code (0 when no workbook was asked for). */
int cli_workbook(const cli_args *a, int kind);

/* --check-exact: compare a run with the exact module; 0 if every measure is
 * within 4 standard errors, 3 if not. */
struct ipabs_mc_result;
int cli_check_exact(const ipabs_deal *deal, const struct ipabs_mc_result *mc);

/* SIGINT/SIGTERM set a flag; long commands stop at a chunk boundary. */
void cli_install_signal_handlers(void);
volatile sig_atomic_t *cli_stop_flag(void);

#endif
