/*
 * scenario_internal.h — state and helpers shared by the three parts of the
 * scenario reader (not installed):
 *
 *   scenario.c       ipabs_scenario_load(): reads the YAML file, applies
 *                    --set overrides, resolves defaults, runs the cross
 *                    checks that need both files; shared helpers below;
 *   scenario_yaml.c  the key schema: which keys exist, what each must hold
 *                    and where it is stored in the ipabs_deal;
 *   scenario_tape.c  the loan tape (CSV, libcsv), one ipabs_loan per row.
 *
 * Every error goes into the caller's ipabs_errors through scn_error(); the
 * readers skip a bad value and go on, so one run reports every problem.
 */
#ifndef IPABS_SCENARIO_INTERNAL_H
#define IPABS_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libfyaml.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"

/* Bounds of the YAML document with its aliases expanded
 * (docs/scenario-format.md, "Limits"). */
#define SCN_MAX_NODES 1000000
#define SCN_MAX_DEPTH 256
/* libfyaml's alias resolution compares every pair of keys of a mapping. */
#define SCN_MAX_ALIAS_MAP_KEYS 1000

/* Largest amount in currency units a scenario or tape may state, and the
 * largest Student-t df (docs/scenario-format.md, "Limits"). */
#define SCN_MAX_AMOUNT 1e15
#define SCN_MAX_DF 1e6

/* Where something is: file as the user named it, 1-based line and column
 * (0 = unknown).  For --set overrides file is "--set" and line is the
 * override's 1-based index. */
typedef struct scn_pos {
    const char *file;
    int line;
    int column;
} scn_pos;

/* A scalar node created by a --set override, and that override's index. */
typedef struct scn_override_node {
    struct fy_node *node;
    int index;
} scn_override_node;

/* A closed, open or half-open interval; an infinite bound is no bound. */
typedef struct scn_range {
    double lo, hi;
    bool lo_open, hi_open;
} scn_range;

typedef struct scn_ctx {
    const char *yaml_path;   /* as given by the user */
    ipabs_errors *errors;    /* the caller's list */
    ipabs_deal *deal;        /* being filled; owned by ipabs_scenario_load */
    struct fy_document *doc; /* the parsed (and overridden) scenario */
    struct fy_diag *diag;    /* libfyaml's collected diagnostics */

    scn_override_node *override_nodes;
    size_t n_override_nodes, cap_override_nodes;

    char *tape_given;        /* loans.tape as written in the scenario */
    scn_pos tape_key_pos;    /* where loans.tape is, for messages */
    char *tape_path;         /* tape_given joined to the YAML's directory */

    char *calendar_given;    /* deal.calendar as written, and where */
    scn_pos calendar_key_pos;
    char *schedule_given;    /* loans.schedule as written, and where */
    scn_pos schedule_key_pos;

    scn_pos tranches_key_pos; /* where plan.tranches is, for the pool check */
    int loan_frequency;      /* loans.frequency (collections a year); 0 = not given */
    scn_pos loan_frequency_pos;
    scn_pos transfer_lag_pos; /* where loans.transfer_lag is; line 0 = not given */
    bool guarantor_given;    /* the scenario has a guarantor section */
    bool model_lists_ok;     /* sectors, pd_table and pd_curves read cleanly */
    bool tranches_ok;        /* every tranche read cleanly */
    bool tape_ok;            /* tape read without any error and not empty */
    bool out_of_memory;      /* an allocation failed (recorded as ENOMEM) */
} scn_ctx;

/* A YAML value being read: the node, its dotted key for messages
 * ("plan.tranches[1].coupon"), its own position and the position of the
 * key that names it (the same for sequence items and the root). */
typedef struct scn_yv {
    struct fy_node *node;
    const char *path;
    scn_pos pos;
    scn_pos key_pos;
    struct fy_node **items; /* a sequence's items, when gathered; else NULL */
} scn_yv;

/* ---- shared helpers (scenario.c) ------------------------------------------ */

/* Collection periods per payment period: loans.frequency over
 * deal.frequency, 1 when not given or not a finer multiple. */
int scn_pay_every(const scn_ctx *c);

/* Record an input error (IPABS_EINPUT) at a position. */
void scn_error(scn_ctx *c, scn_pos at, const char *field, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* Record that an allocation failed (IPABS_ENOMEM). */
void scn_oom(scn_ctx *c);

/* strdup that records IPABS_ENOMEM on failure. */
char *scn_strdup(scn_ctx *c, const char *s);

/* Read a whole regular file of at most max_bytes into a NUL-terminated
 * buffer (*out, owned by the caller).  Returns 0, or an errno value
 * (ENOMEM when an allocation failed) with the reason written into why. */
int scn_read_file(const char *path, long long max_bytes, char **out, size_t *len,
                  char *why, size_t cap);

/* Copy text into buf for a message, cut at a UTF-8 boundary with "..."
 * when it does not fit. */
void scn_clip(const char *text, char *buf, size_t cap);

/* Parse a plain decimal or exponent number ("72000000", "-1.5e-3"): the
 * whole text must be consumed and the value finite.  No hex, inf, nan,
 * underscores or surrounding blanks. */
bool scn_parse_number(const char *text, double *out);

bool scn_in_range(double x, const scn_range *r);

/* "a number in [0, 1)", "an integer >= 0"...  into buf. */
void scn_range_text(const scn_range *r, bool integer, char *buf, size_t cap);

/* Offset of the first byte that is not well-formed UTF-8, or n if none. */
size_t scn_utf8_invalid(const char *s, size_t n);

/* The candidate nearest to word by (ASCII case-insensitive) edit distance,
 * when it is close enough to be a plausible typo; NULL otherwise. */
typedef struct scn_suggest {
    const char *word;
    const char *best;
    size_t best_distance;
} scn_suggest;
void scn_suggest_init(scn_suggest *s, const char *word);
void scn_suggest_offer(scn_suggest *s, const char *candidate);
const char *scn_suggest_best(const scn_suggest *s);

/* "; did you mean 'x'?" or "" into buf. */
void scn_hint_text(const char *best, char *buf, size_t cap);

/* Position of a YAML node: its own mark, its first key or item for a
 * collection, "--set" for an override; fallback when it has none. */
scn_pos scn_node_pos(const scn_ctx *c, struct fy_node *node, scn_pos fallback);

/* True when the node came from a --set override. */
bool scn_node_is_override(const scn_ctx *c, struct fy_node *node);

/* ---- the YAML schema (scenario_yaml.c) ------------------------------------ */

/* Read and validate the whole document into c->deal. */
void scn_read_document(scn_ctx *c);

/* The pair of a mapping whose key is the scalar text name[0..len), or NULL. */
struct fy_node_pair *scn_map_find(struct fy_node *map, const char *name,
                                  size_t len);

/* ---- small CSV files with positions (scenario_csv.c) ---------------------- */

typedef struct scn_csv_cell {
    char *text;  /* NUL-terminated */
    size_t len;
    int line;    /* physical line the field starts on */
    int field;   /* 1-based number in its row */
} scn_csv_cell;

enum { SCN_CSV_MAX_COLUMNS = 8 };

/* Called for every data row with its cells in the caller's column order
 * (col[k] is the cell of names[k]) and the line the row starts on.  The
 * cells are valid during the call only. */
typedef void (*scn_csv_row_fn)(void *user, const scn_csv_cell *const *col,
                               int line);

/* Read the CSV file at path (UTF-8, BOM skipped): a header naming exactly
 * the n_names (<= SCN_CSV_MAX_COLUMNS) columns names[] in any order, then
 * data rows, each passed to row().  An unreadable file is an IPABS_EIO
 * error naming key and where it was given (named_at); malformed CSV, an
 * empty file, unknown, repeated or missing columns and rows of the wrong
 * length are input errors at their line and field.  False when the rows
 * could not be read (the errors are recorded). */
bool scn_csv_read(scn_ctx *c, const char *path, const char *key,
                  scn_pos named_at, const char *const *names, int n_names,
                  scn_csv_row_fn row, void *user);

/* A path named in the scenario: relative to the scenario's directory unless
 * absolute (NULL on ENOMEM, recorded). */
char *scn_join_path(scn_ctx *c, const char *given);

/* ---- files named by the scenario (scenario_files.c) ------------------------ */

/* deal.calendar: the holidays and working weekend days into c->deal. */
void scn_read_calendar(scn_ctx *c);

/* loans.schedule: each schedule loan's principal by period. */
void scn_read_schedule(scn_ctx *c);

/* ---- the loan tape (scenario_tape.c) -------------------------------------- */

/* Read c->tape_path into c->deal->loans and set c->tape_ok. */
void scn_read_tape(scn_ctx *c);

#endif
