/*
 * scenario_yaml.c — the key schema of a scenario file, and the readers that
 * check each value and store it in the ipabs_deal.
 *
 * The schema is a set of tables of key_spec, one per YAML mapping.  An
 * entry names a key, says whether it is required, which reader checks its
 * value, where the value goes (an offset into the struct the mapping
 * fills) and the allowed range or words.  read_mapping() reports unknown
 * keys (with the nearest valid one) and missing required keys, then reads
 * the keys in table order rather than file order, so that deal.legal_final
 * and the model are known before the tranches and the tape are checked
 * against them.  Custom readers handle the lists: tranches, expenses,
 * tranche schedules, sector loadings, the PD table and PD curves.
 *
 * Value types follow YAML: a number or a boolean must be a plain
 * (unquoted) scalar; strings may be plain or quoted.  A value set by --set
 * counts as plain.
 */
#include "scenario_internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(i) ((uint64_t)1 << (i))

enum { PATH_CAP = 128, TEXT_CAP = 80 };

/* Enumerations are stored through an int; make sure that is their size. */
_Static_assert(sizeof(ipabs_daycount) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_payout_style) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_tranche_class) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_tranche_amort) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_copula_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_importance_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_pledgee) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_reimbursement) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_accounts) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_put_supporter) == sizeof(int), "enum size");

typedef struct scn_choice {
    const char *name;
    int value;
} scn_choice;

typedef struct key_spec key_spec;

/* Check the value, store it at base + k->offset; false when it is wrong
 * (the error is already recorded). */
typedef bool (*key_reader)(scn_ctx *c, const scn_yv *v, void *base,
                           const key_spec *k);

struct key_spec {
    const char *name;
    key_reader read;
    bool required;
    size_t offset;
    scn_range range;            /* numbers and integers */
    const scn_choice *choices;  /* words; ends with {NULL, 0} */
    const key_spec *sub;        /* sections: the nested table */
    size_t n_sub;
};

/* Which keys of a table were present, and which of those were valid. */
typedef struct key_set {
    uint64_t seen, ok;
} key_set;

/* A list of numbers: range of each, and order (+1 non-decreasing, -1
 * non-increasing, 0 any). */
typedef struct list_rule {
    scn_range range;
    int order;
    const char *what;
} list_rule;

/* ---- nodes ---------------------------------------------------------------- */

static void *at_offset(void *base, size_t offset)
{
    return (char *)base + offset;
}

static const char *scalar_text(struct fy_node *n)
{
    return n != NULL && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

static bool is_plain(const scn_ctx *c, struct fy_node *n)
{
    return fy_node_get_style(n) == FYNS_PLAIN || scn_node_is_override(c, n);
}

/* An empty value: "key:" with nothing, ~ or null. */
static bool is_null(const scn_ctx *c, struct fy_node *n)
{
    const char *t = scalar_text(n);
    if (n == NULL)
        return true;
    if (t == NULL || !is_plain(c, n))
        return false;
    return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

/* What was found, for "expected X, got Y". */
static void describe(const scn_ctx *c, struct fy_node *n, char *buf, size_t cap)
{
    char text[TEXT_CAP];
    if (is_null(c, n)) {
        snprintf(buf, cap, "an empty value");
    } else if (fy_node_is_mapping(n)) {
        snprintf(buf, cap, "a mapping");
    } else if (fy_node_is_sequence(n)) {
        snprintf(buf, cap, "a sequence");
    } else {
        scn_clip(scalar_text(n), text, sizeof text);
        snprintf(buf, cap, is_plain(c, n) ? "'%s'" : "the quoted string '%s'",
                 text);
    }
}

static void expected(scn_ctx *c, const scn_yv *v, const char *what)
{
    char found[TEXT_CAP + 32];
    describe(c, v->node, found, sizeof found);
    scn_error(c, v->pos, v->path, "expected %s, got %s", what, found);
}

struct fy_node_pair *scn_map_find(struct fy_node *map, const char *name,
                                  size_t len)
{
    void *iter = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &iter)) != NULL) {
        size_t n = 0;
        struct fy_node *key = fy_node_pair_key(p);
        const char *text = key && fy_node_is_scalar(key)
                               ? fy_node_get_scalar(key, &n) : NULL;
        if (text != NULL && n == len && memcmp(text, name, len) == 0)
            return p;
    }
    return NULL;
}

/* Key paths longer than PATH_CAP are cut; they only label messages. */
static void child_path(char *buf, const char *parent, const char *key)
{
    int n = parent[0] == '\0' ? snprintf(buf, PATH_CAP, "%s", key)
                              : snprintf(buf, PATH_CAP, "%s.%s", parent, key);
    if (n < 0)
        buf[0] = '\0';
}

/* The value of a mapping pair as a scn_yv (path written into buf). */
static scn_yv pair_child(const scn_ctx *c, const scn_yv *parent,
                         struct fy_node_pair *p, const char *name, char *buf)
{
    scn_yv v;
    child_path(buf, parent->path, name);
    v.node = fy_node_pair_value(p);
    v.path = buf;
    v.key_pos = scn_node_pos(c, fy_node_pair_key(p), parent->pos);
    v.items = NULL;
    /* A mapping or sequence is located at its key, a scalar at itself. */
    v.pos = fy_node_is_scalar(v.node) ? scn_node_pos(c, v.node, v.key_pos)
                                      : v.key_pos;
    return v;
}

/* Item i of a sequence as a scn_yv (path written into buf). */
static scn_yv seq_item(const scn_ctx *c, const scn_yv *seq, int i, char *buf)
{
    scn_yv v;
    snprintf(buf, PATH_CAP, "%s[%d]", seq->path, i);
    v.node = seq->items ? seq->items[i] : fy_node_sequence_get_by_index(seq->node, i);
    v.path = buf;
    v.pos = scn_node_pos(c, v.node, seq->pos);
    v.key_pos = v.pos;
    v.items = NULL;
    return v;
}

/* v with its count sequence items gathered into v->items (free it), so
 * that seq_item costs O(1): fy_node_sequence_get_by_index walks the list
 * from its start, which made reading n tranches O(n^2).  False (recorded)
 * when out of memory. */
static bool gather_items(scn_ctx *c, const scn_yv *v, int count, scn_yv *out)
{
    *out = *v;
    out->items = malloc((size_t)(count > 0 ? count : 1) * sizeof *out->items);
    if (out->items == NULL) {
        scn_oom(c);
        return false;
    }
    void *iter = NULL;
    for (int i = 0; i < count; i++)
        out->items[i] = fy_node_sequence_iterate(v->node, &iter);
    return true;
}

/* ---- scalar values -------------------------------------------------------- */

static bool yaml_number(scn_ctx *c, const scn_yv *v, const scn_range *r,
                        bool integer, double *out)
{
    char what[64], text[TEXT_CAP];
    const char *t = is_null(c, v->node) || !is_plain(c, v->node)
                        ? NULL : scalar_text(v->node);
    double x = 0.0;
    scn_range_text(r, integer, what, sizeof what);
    if (t == NULL || !scn_parse_number(t, &x) || (integer && x != floor(x))) {
        expected(c, v, what);
        return false;
    }
    if (!scn_in_range(x, r)) {
        scn_clip(t, text, sizeof text);
        scn_error(c, v->pos, v->path, "must be %s (got %s)", what, text);
        return false;
    }
    *out = x;
    return true;
}

/* A non-empty string without NUL characters. */
static const char *yaml_string(scn_ctx *c, const scn_yv *v)
{
    size_t len = 0;
    const char *t = is_null(c, v->node) ? NULL : scalar_text(v->node);
    if (t != NULL)
        fy_node_get_scalar(v->node, &len);
    if (t == NULL || t[0] == '\0' || strlen(t) != len) {
        expected(c, v, "a non-empty string");
        return NULL;
    }
    return t;
}

static void choice_list(const scn_choice *choices, char *buf, size_t cap)
{
    size_t used = (size_t)snprintf(buf, cap, "one of");
    for (int i = 0; choices[i].name != NULL && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s %s",
                                 i ? "," : "", choices[i].name);
}

static bool yaml_choice(scn_ctx *c, const scn_yv *v, const scn_choice *choices,
                        int *out)
{
    const char *t = is_null(c, v->node) ? NULL : scalar_text(v->node);
    for (int i = 0; t != NULL && choices[i].name != NULL; i++) {
        if (strcmp(t, choices[i].name) == 0) {
            *out = choices[i].value;
            return true;
        }
    }
    char list[160], found[TEXT_CAP + 32], hint[96];
    scn_suggest s;
    scn_suggest_init(&s, t ? t : "");
    for (int i = 0; choices[i].name != NULL; i++)
        scn_suggest_offer(&s, choices[i].name);
    choice_list(choices, list, sizeof list);
    describe(c, v->node, found, sizeof found);
    scn_hint_text(t ? scn_suggest_best(&s) : NULL, hint, sizeof hint);
    scn_error(c, v->pos, v->path, "expected %s, got %s%s", list, found, hint);
    return false;
}

/* ---- generic readers ------------------------------------------------------ */

static bool read_number(scn_ctx *c, const scn_yv *v, void *base,
                        const key_spec *k)
{
    double x;
    if (!yaml_number(c, v, &k->range, false, &x))
        return false;
    *(double *)at_offset(base, k->offset) = x;
    return true;
}

static bool read_int(scn_ctx *c, const scn_yv *v, void *base, const key_spec *k)
{
    double x;
    if (!yaml_number(c, v, &k->range, true, &x))
        return false;
    *(int *)at_offset(base, k->offset) = (int)x;
    return true;
}

static bool read_bool(scn_ctx *c, const scn_yv *v, void *base,
                      const key_spec *k)
{
    static const char *const words[2][3] = {{"false", "False", "FALSE"},
                                            {"true", "True", "TRUE"}};
    const char *t = is_plain(c, v->node) ? scalar_text(v->node) : NULL;
    for (int b = 0; t != NULL && b < 2; b++) {
        for (int i = 0; i < 3; i++) {
            if (strcmp(t, words[b][i]) == 0) {
                *(bool *)at_offset(base, k->offset) = b == 1;
                return true;
            }
        }
    }
    expected(c, v, "true or false");
    return false;
}

static bool read_string(scn_ctx *c, const scn_yv *v, void *base,
                        const key_spec *k)
{
    const char *t = yaml_string(c, v);
    char *copy = t ? scn_strdup(c, t) : NULL;
    if (copy == NULL)
        return false;
    char **dst = at_offset(base, k->offset);
    free(*dst);
    *dst = copy;
    return true;
}

static bool read_choice(scn_ctx *c, const scn_yv *v, void *base,
                        const key_spec *k)
{
    int value;
    if (!yaml_choice(c, v, k->choices, &value))
        return false;
    memcpy(at_offset(base, k->offset), &value, sizeof value);
    return true;
}

static bool read_date(scn_ctx *c, const scn_yv *v, void *base,
                      const key_spec *k)
{
    const char *t = is_null(c, v->node) ? NULL : scalar_text(v->node);
    if (t == NULL || !ipabs_date_parse(t, at_offset(base, k->offset))) {
        expected(c, v, "a date YYYY-MM-DD (years 1900-2200)");
        return false;
    }
    return true;
}

/* Checked by the reader of the enclosing mapping, once its other keys are
 * known (a tranche's schedule). */
static bool read_later(scn_ctx *c, const scn_yv *v, void *base,
                       const key_spec *k)
{
    (void)c, (void)v, (void)base, (void)k;
    return true;
}

/* ---- mappings ------------------------------------------------------------- */

static int spec_index(const key_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(specs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void report_unknown_key(scn_ctx *c, const scn_yv *v, struct fy_node *key,
                               const key_spec *specs, size_t n)
{
    scn_pos at = scn_node_pos(c, key, v->pos);
    const char *name = is_null(c, key) ? NULL : scalar_text(key);
    char path[PATH_CAP], text[TEXT_CAP], tail[320];
    if (name == NULL) {
        scn_error(c, at, v->path, "keys must be names, not a mapping, a "
                                  "sequence or an empty value");
        return;
    }
    scn_suggest s;
    scn_suggest_init(&s, name);
    size_t used = (size_t)snprintf(tail, sizeof tail, "; valid keys here:");
    for (size_t i = 0; i < n; i++) {
        scn_suggest_offer(&s, specs[i].name);
        if (used < sizeof tail)
            used += (size_t)snprintf(tail + used, sizeof tail - used, "%s %s",
                                     i ? "," : "", specs[i].name);
    }
    if (scn_suggest_best(&s) != NULL)
        scn_hint_text(scn_suggest_best(&s), tail, sizeof tail);
    scn_clip(name, text, sizeof text);
    child_path(path, v->path, text);
    scn_error(c, at, path, "unknown key '%s'%s", text, tail);
}

static void report_unknown_keys(scn_ctx *c, const scn_yv *v,
                                const key_spec *specs, size_t n)
{
    void *iter = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v->node, &iter)) != NULL) {
        struct fy_node *key = fy_node_pair_key(p);
        const char *name = scalar_text(key);
        if (name == NULL || spec_index(specs, n, name) < 0)
            report_unknown_key(c, v, key, specs, n);
    }
}

static void report_missing_key(scn_ctx *c, const scn_yv *v, const char *name,
                               const char *why)
{
    char path[PATH_CAP];
    child_path(path, v->path, name);
    scn_error(c, v->key_pos, path, "missing required key '%s'%s", name, why);
}

/* Read every key of the table that is present in the mapping. */
static key_set read_mapping(scn_ctx *c, const scn_yv *v, void *base,
                            const key_spec *specs, size_t n)
{
    key_set s = {0, 0};
    if (!fy_node_is_mapping(v->node)) {
        expected(c, v, "a mapping");
        return s;
    }
    report_unknown_keys(c, v, specs, n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_CAP];
        struct fy_node_pair *p =
            scn_map_find(v->node, specs[i].name, strlen(specs[i].name));
        if (p == NULL) {
            if (specs[i].required)
                report_missing_key(c, v, specs[i].name, "");
            continue;
        }
        scn_yv child = pair_child(c, v, p, specs[i].name, path);
        s.seen |= BIT(i);
        if (specs[i].read(c, &child, base, &specs[i]))
            s.ok |= BIT(i);
    }
    return s;
}

static bool read_section(scn_ctx *c, const scn_yv *v, void *base,
                         const key_spec *k)
{
    size_t before = ipabs_errors_total(c->errors);
    read_mapping(c, v, at_offset(base, k->offset), k->sub, k->n_sub);
    return ipabs_errors_total(c->errors) == before;
}

/* Mapping pair p of v as a scn_yv named by its key; NULL name (error
 * recorded) when the key is not a non-empty name. */
static const char *named_child(scn_ctx *c, const scn_yv *v,
                               struct fy_node_pair *p, char *path, scn_yv *out)
{
    struct fy_node *key = fy_node_pair_key(p);
    const char *name = is_null(c, key) ? NULL : scalar_text(key);
    if (name == NULL || name[0] == '\0') {
        scn_error(c, scn_node_pos(c, key, v->pos), v->path,
                  "keys must be non-empty names");
        return NULL;
    }
    *out = pair_child(c, v, p, name, path);
    return name;
}

/* ---- lists of numbers ----------------------------------------------------- */

static bool read_list_item(scn_ctx *c, const scn_yv *seq, int i,
                           const list_rule *rule, double *x)
{
    char path[PATH_CAP];
    scn_yv item = seq_item(c, seq, i, path);
    if (!yaml_number(c, &item, &rule->range, false, &x[i]))
        return false;
    if (i > 0 && rule->order * (x[i] - x[i - 1]) < 0.0) {
        scn_error(c, item.pos, item.path,
                  "%s must be %s: %.15g comes after %.15g", rule->what,
                  rule->order > 0 ? "non-decreasing" : "non-increasing",
                  x[i], x[i - 1]);
        return false;
    }
    return true;
}

/* A non-empty sequence of numbers into *out (malloc'ed, n entries). */
static bool read_number_list(scn_ctx *c, const scn_yv *v, const list_rule *rule,
                             double **out, int *n)
{
    int count = fy_node_is_sequence(v->node)
                    ? fy_node_sequence_item_count(v->node) : 0;
    if (count <= 0) {
        char what[96];
        snprintf(what, sizeof what, "a non-empty sequence of %s", rule->what);
        expected(c, v, what);
        return false;
    }
    scn_yv seq;
    double *x = calloc((size_t)count, sizeof *x);
    if (x == NULL || !gather_items(c, v, count, &seq)) {
        if (x == NULL)
            scn_oom(c);
        free(x);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < count; i++) {
        if (!read_list_item(c, &seq, i, rule, x)) {
            /* So that the next item is not compared with a bad one. */
            x[i] = rule->order > 0 ? -INFINITY : INFINITY;
            ok = false;
        }
    }
    free(seq.items);
    if (!ok) {
        free(x);
        return false;
    }
    *out = x;
    *n = count;
    return true;
}

/* ---- ranges used by the tables -------------------------------------------- */

#define R_UNIT_OPEN {0.0, 1.0, false, true}           /* [0, 1) */
#define R_UNIT {0.0, 1.0, false, false}               /* [0, 1] */
#define R_LOADING {-1.0, 1.0, false, false}           /* [-1, 1] */
#define R_NON_NEGATIVE {0.0, INFINITY, false, false}  /* >= 0 */
/* Amounts in currency units: at most SCN_MAX_AMOUNT, so that sums over
 * every loan and period stay far inside double range and the conservation
 * checks keep their meaning (1e308 overflowed to NaN). */
#define R_AMOUNT {0.0, SCN_MAX_AMOUNT, false, false}  /* [0, 1e15] */
#define R_POSITIVE_AMOUNT {0.0, SCN_MAX_AMOUNT, true, false} /* (0, 1e15] */
#define R_POSITIVE {0.0, INFINITY, true, false}       /* > 0 */
#define R_PERIODS {1.0, 600.0, false, false}          /* 1..600 */
#define R_LAG {0.0, 600.0, false, false}              /* 0..600 */

/* ---- custom readers: guarantor, loans, simulation ------------------------- */

static bool read_capacity(scn_ctx *c, const scn_yv *v, void *base,
                          const key_spec *k)
{
    const char *t = is_null(c, v->node) ? NULL : scalar_text(v->node);
    double x;
    if (t != NULL && strcmp(t, "unlimited") == 0) {
        *(double *)at_offset(base, k->offset) = INFINITY;
        return true;
    }
    if (t == NULL || !is_plain(c, v->node) || !scn_parse_number(t, &x)) {
        expected(c, v, "a number >= 0 or 'unlimited'");
        return false;
    }
    return read_number(c, v, base, k);
}

static bool read_guarantor(scn_ctx *c, const scn_yv *v, void *base,
                           const key_spec *k)
{
    c->guarantor_given = true;
    return read_section(c, v, base, k);
}

static bool read_tape_key(scn_ctx *c, const scn_yv *v, void *base,
                          const key_spec *k)
{
    (void)base, (void)k;
    const char *t = yaml_string(c, v);
    if (t == NULL)
        return false;
    free(c->tape_given);
    c->tape_given = scn_strdup(c, t);
    c->tape_key_pos = v->pos;
    return c->tape_given != NULL;
}

/* A file named by the scenario, kept as written with its position; read
 * once the tape is (scenario_files.c). */
static bool read_file_key(scn_ctx *c, const scn_yv *v, char **given,
                          scn_pos *at)
{
    const char *t = yaml_string(c, v);
    if (t == NULL)
        return false;
    free(*given);
    *given = scn_strdup(c, t);
    *at = v->pos;
    return *given != NULL;
}

static bool read_calendar_key(scn_ctx *c, const scn_yv *v, void *base,
                              const key_spec *k)
{
    (void)base, (void)k;
    return read_file_key(c, v, &c->calendar_given, &c->calendar_key_pos);
}

static bool read_schedule_key(scn_ctx *c, const scn_yv *v, void *base,
                              const key_spec *k)
{
    (void)base, (void)k;
    return read_file_key(c, v, &c->schedule_given, &c->schedule_key_pos);
}

/* loans.frequency: the loans' payment (collection) frequency, kept aside
 * until the deal's grid is built (scn_collection_grid). */
static bool read_loan_frequency(scn_ctx *c, const scn_yv *v, void *base,
                                const key_spec *k)
{
    (void)base;
    int value;
    if (!yaml_choice(c, v, k->choices, &value))
        return false;
    c->loan_frequency = value;
    c->loan_frequency_pos = v->pos;
    return true;
}

/* loans.transfer_lag: in collection periods; checked against the grid. */
static bool read_transfer_lag(scn_ctx *c, const scn_yv *v, void *base,
                              const key_spec *k)
{
    if (!read_int(c, v, base, k))
        return false;
    c->transfer_lag_pos = v->pos;
    return true;
}

/* loans.day_count: the day count of every loan without its own. */
static bool read_loan_daycount(scn_ctx *c, const scn_yv *v, void *base,
                               const key_spec *k)
{
    if (!read_choice(c, v, base, k))
        return false;
    c->deal->loan_daycount_given = true;
    return true;
}

static bool read_paths(scn_ctx *c, const scn_yv *v, void *base,
                       const key_spec *k)
{
    double x;
    if (!yaml_number(c, v, &k->range, true, &x))
        return false;
    if (x > 1e15) { /* beyond exact integers in a double */
        scn_error(c, v->pos, v->path, "must be at most 1e15 (got %.15g)", x);
        return false;
    }
    *(long long *)at_offset(base, k->offset) = (long long)x;
    return true;
}

/* Digits only, so that every value up to 2^64 - 1 is exact. */
static bool read_seed(scn_ctx *c, const scn_yv *v, void *base,
                      const key_spec *k)
{
    const char *t = is_null(c, v->node) || !is_plain(c, v->node)
                        ? NULL : scalar_text(v->node);
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > 20 || strspn(t, "0123456789") != n) {
        expected(c, v, "an integer in [0, 2^64)");
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(t, &end, 10);
    if (errno == ERANGE) {
        scn_error(c, v->pos, v->path, "must be an integer in [0, 2^64) (got %s)", t);
        return false;
    }
    *(uint64_t *)at_offset(base, k->offset) = (uint64_t)x;
    return true;
}

/* ---- custom readers: model lists ------------------------------------------ */

static bool read_named_number(scn_ctx *c, const scn_yv *v,
                              struct fy_node_pair *p, const scn_range *r,
                              char **names, double *values, int *n)
{
    char path[PATH_CAP];
    scn_yv item;
    double x;
    const char *name = named_child(c, v, p, path, &item);
    if (name == NULL || !yaml_number(c, &item, r, false, &x))
        return false;
    if ((names[*n] = scn_strdup(c, name)) == NULL)
        return false;
    values[(*n)++] = x;
    return true;
}

/* A mapping name -> number (sector loadings, the PD table). */
static bool read_number_map(scn_ctx *c, const scn_yv *v, const scn_range *r,
                            char ***names, double **values, int *n)
{
    if (!fy_node_is_mapping(v->node)) {
        expected(c, v, "a mapping of names to numbers");
        return false;
    }
    size_t count = (size_t)fy_node_mapping_item_count(v->node) + 1;
    *names = calloc(count, sizeof **names);
    *values = calloc(count, sizeof **values);
    if (*names == NULL || *values == NULL) {
        scn_oom(c);
        return false;
    }
    bool ok = true;
    void *iter = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v->node, &iter)) != NULL)
        if (!read_named_number(c, v, p, r, *names, *values, n))
            ok = false;
    return ok;
}

static bool read_sectors(scn_ctx *c, const scn_yv *v, void *base,
                         const key_spec *k)
{
    ipabs_model *m = base;
    bool ok = read_number_map(c, v, &k->range, &m->sector_names,
                              &m->sector_loading, &m->n_sectors);
    c->model_lists_ok = c->model_lists_ok && ok;
    return ok;
}

static bool read_pd_table(scn_ctx *c, const scn_yv *v, void *base,
                          const key_spec *k)
{
    ipabs_model *m = base;
    bool ok = read_number_map(c, v, &k->range, &m->rating_names,
                              &m->rating_pd, &m->n_ratings);
    c->model_lists_ok = c->model_lists_ok && ok;
    return ok;
}

static bool read_pd_curve(scn_ctx *c, const scn_yv *v, struct fy_node_pair *p,
                          ipabs_model *m)
{
    static const list_rule rule = {R_UNIT_OPEN, +1, "cumulative PDs"};
    char path[PATH_CAP];
    scn_yv item;
    ipabs_pd_curve *curve = &m->curves[m->n_curves];
    const char *name = named_child(c, v, p, path, &item);
    if (name == NULL ||
        !read_number_list(c, &item, &rule, &curve->cum_pd, &curve->n))
        return false;
    if ((curve->name = scn_strdup(c, name)) == NULL) {
        free(curve->cum_pd);
        curve->cum_pd = NULL;
        return false;
    }
    m->n_curves++;
    return true;
}

static bool read_pd_curves(scn_ctx *c, const scn_yv *v, void *base,
                           const key_spec *k)
{
    ipabs_model *m = base;
    (void)k;
    if (!fy_node_is_mapping(v->node)) {
        expected(c, v, "a mapping of curve names to sequences of cumulative PDs");
        c->model_lists_ok = false;
        return false;
    }
    size_t count = (size_t)fy_node_mapping_item_count(v->node) + 1;
    if ((m->curves = calloc(count, sizeof *m->curves)) == NULL) {
        scn_oom(c);
        return false;
    }
    bool ok = true;
    void *iter = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v->node, &iter)) != NULL)
        if (!read_pd_curve(c, v, p, m))
            ok = false;
    c->model_lists_ok = c->model_lists_ok && ok;
    return ok;
}

/* ---- lists of named items (tranches, expenses) ---------------------------- */

static const char *item_name(struct fy_node *item)
{
    struct fy_node_pair *p =
        fy_node_is_mapping(item) ? scn_map_find(item, "name", 4) : NULL;
    return p ? scalar_text(fy_node_pair_value(p)) : NULL;
}

static scn_pos item_name_pos(const scn_ctx *c, struct fy_node *item,
                             scn_pos fallback)
{
    return scn_node_pos(c, fy_node_pair_value(scn_map_find(item, "name", 4)),
                        fallback);
}

typedef struct named_item {
    const char *name;
    int index;
} named_item;

static int compare_named(const void *a, const void *b)
{
    const named_item *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d != 0 ? d : (x->index > y->index) - (x->index < y->index);
}

/* Every repeated name of the sequence's items, each naming the first: by
 * sorting (name, index), O(n log n). */
static void check_unique_names(scn_ctx *c, const scn_yv *seq, int count,
                               const char *what)
{
    named_item *items = malloc((size_t)(count > 0 ? count : 1) * sizeof *items);
    int n = 0;
    if (items == NULL) {
        scn_oom(c);
        return;
    }
    for (int i = 0; i < count; i++) {
        const char *name = item_name(seq->items[i]);
        if (name != NULL)
            items[n++] = (named_item){name, i};
    }
    qsort(items, (size_t)n, sizeof *items, compare_named);
    for (int k = 1, first = 0; k < n; k++) {
        if (strcmp(items[k].name, items[first].name) != 0) {
            first = k;
            continue;
        }
        char path[PATH_CAP], text[TEXT_CAP];
        struct fy_node *item = seq->items[items[k].index];
        scn_pos at = item_name_pos(c, seq->items[items[first].index], seq->pos);
        snprintf(path, sizeof path, "%s[%d].name", seq->path, items[k].index);
        scn_clip(items[k].name, text, sizeof text);
        scn_error(c, item_name_pos(c, item, seq->pos), path,
                  "duplicate %s name '%s' (first at %s %d)", what, text,
                  at.file == c->yaml_path ? "line" : "--set", at.line);
    }
    free(items);
}

/* ---- tranches ------------------------------------------------------------- */

static const scn_choice daycount_choices[] = {
    {"30/360", IPABS_DAYCOUNT_30_360},
    {"ACT/365F", IPABS_DAYCOUNT_ACT_365F},
    {"ACT/360", IPABS_DAYCOUNT_ACT_360},
    {NULL, 0}};


enum { TR_NAME, TR_CLASS, TR_BALANCE, TR_COUPON, TR_AMORT, TR_LEGAL_FINAL,
       TR_SCHEDULE, TR_DAY_COUNT, TR_COUPON_STEPS, TR_EXPECTED_MATURITY, TR_PUTS,
       TR_PUT_SUPPORTER, TR_N };

static const scn_choice supporter_choices[] = {
    {"guarantor", IPABS_SUPPORTER_GUARANTOR},
    {"originator", IPABS_SUPPORTER_ORIGINATOR},
    {NULL, 0}};


static const scn_choice class_choices[] = {
    {"senior", IPABS_CLASS_SENIOR}, {"sub", IPABS_CLASS_SUB}, {NULL, 0}};

static const scn_choice tranche_amort_choices[] = {
    {"pass_through", IPABS_TRANCHE_PASS_THROUGH},
    {"scheduled", IPABS_TRANCHE_SCHEDULED},
    {"bullet", IPABS_TRANCHE_BULLET},
    {NULL, 0}};

static bool read_tranche_legal_final(scn_ctx *c, const scn_yv *v, void *base,
                                     const key_spec *k)
{
    int deal_final = c->deal->legal_final;
    if (!read_int(c, v, base, k))
        return false;
    int legal_final = ((ipabs_tranche *)base)->legal_final;
    if (deal_final > 0 && legal_final > deal_final) {
        scn_error(c, v->pos, v->path,
                  "must be <= deal.legal_final (%d) (got %d)", deal_final,
                  legal_final);
        return false;
    }
    return true;
}

static const key_spec tranche_keys[TR_N] = {
    [TR_NAME] = {.name = "name", .read = read_string, .required = true,
                 .offset = offsetof(ipabs_tranche, name)},
    [TR_CLASS] = {.name = "class", .read = read_choice, .required = true,
                  .offset = offsetof(ipabs_tranche, cls),
                  .choices = class_choices},
    [TR_BALANCE] = {.name = "balance", .read = read_number, .required = true,
                    .offset = offsetof(ipabs_tranche, balance),
                    .range = R_POSITIVE_AMOUNT},
    [TR_COUPON] = {.name = "coupon", .read = read_number,
                   .offset = offsetof(ipabs_tranche, coupon),
                   .range = R_UNIT_OPEN},
    [TR_AMORT] = {.name = "amortisation", .read = read_choice,
                  .offset = offsetof(ipabs_tranche, amort),
                  .choices = tranche_amort_choices},
    [TR_LEGAL_FINAL] = {.name = "legal_final", .read = read_tranche_legal_final,
                        .offset = offsetof(ipabs_tranche, legal_final),
                        .range = R_PERIODS},
    [TR_SCHEDULE] = {.name = "schedule", .read = read_later},
    [TR_DAY_COUNT] = {.name = "day_count", .read = read_choice,
                      .offset = offsetof(ipabs_tranche, daycount),
                      .choices = daycount_choices},
    [TR_COUPON_STEPS] = {.name = "coupon_steps", .read = read_later},
    [TR_EXPECTED_MATURITY] = {.name = "expected_maturity", .read = read_int,
                              .offset = offsetof(ipabs_tranche, expected_maturity),
                              .range = R_PERIODS},
    [TR_PUTS] = {.name = "puts", .read = read_later},
    [TR_PUT_SUPPORTER] = {.name = "put_supporter", .read = read_choice,
                          .offset = offsetof(ipabs_tranche, put_supporter),
                          .choices = supporter_choices},
};

enum { CS_PERIOD, CS_COUPON, CS_N };

static const key_spec coupon_step_keys[CS_N] = {
    [CS_PERIOD] = {.name = "period", .read = read_int, .required = true,
                   .offset = offsetof(ipabs_coupon_step, period),
                   .range = R_PERIODS},
    [CS_COUPON] = {.name = "coupon", .read = read_number, .required = true,
                   .offset = offsetof(ipabs_coupon_step, coupon),
                   .range = R_UNIT_OPEN},
};

/* coupon_steps: [{period, coupon}, ...], periods increasing and within the
 * tranche's legal final. */
static void read_coupon_steps(scn_ctx *c, const scn_yv *item, ipabs_tranche *tr,
                              key_set s)
{
    char path[PATH_CAP];
    if (!(s.seen & BIT(TR_COUPON_STEPS)))
        return;
    scn_yv v = pair_child(c, item, scn_map_find(item->node, "coupon_steps", 12),
                          "coupon_steps", path);
    if (!fy_node_is_sequence(v.node)) {
        expected(c, &v, "a sequence of {period, coupon} mappings");
        return;
    }
    int n = fy_node_sequence_item_count(v.node);
    if (n == 0)
        return;
    if ((tr->coupon_steps = calloc((size_t)n, sizeof *tr->coupon_steps)) == NULL) {
        scn_oom(c);
        return;
    }
    tr->n_coupon_steps = n;
    int final = (s.ok & BIT(TR_LEGAL_FINAL)) ? tr->legal_final : c->deal->legal_final;
    for (int j = 0; j < n; j++) {
        char ipath[PATH_CAP];
        scn_yv step = seq_item(c, &v, j, ipath);
        key_set ks = read_mapping(c, &step, &tr->coupon_steps[j], coupon_step_keys, CS_N);
        if (!(ks.ok & BIT(CS_PERIOD)))
            continue;
        int p = tr->coupon_steps[j].period;
        if (j > 0 && p <= tr->coupon_steps[j - 1].period)
            scn_error(c, step.pos, step.path,
                      "periods must increase: %d follows %d", p,
                      tr->coupon_steps[j - 1].period);
        else if (final > 0 && p > final)
            scn_error(c, step.pos, step.path,
                      "period %d is after the tranche's legal final (%d)", p, final);
    }
}

enum { PUT_PERIOD, PUT_EXERCISED, PUT_RESOLD, PUT_COUPON, PUT_N };

static const key_spec put_keys[PUT_N] = {
    [PUT_PERIOD] = {.name = "period", .read = read_int, .required = true,
                    .offset = offsetof(ipabs_put, period), .range = R_PERIODS},
    [PUT_EXERCISED] = {.name = "exercised", .read = read_number, .required = true,
                       .offset = offsetof(ipabs_put, exercised), .range = R_UNIT},
    [PUT_RESOLD] = {.name = "resold", .read = read_number,
                    .offset = offsetof(ipabs_put, resold), .range = R_UNIT},
    [PUT_COUPON] = {.name = "coupon", .read = read_number,
                    .offset = offsetof(ipabs_put, coupon), .range = R_UNIT_OPEN},
};

/* The item's key `name` as a positioned value, for an error about it. */
static scn_yv put_child(const scn_ctx *c, const scn_yv *item, const char *name,
                        char *path)
{
    struct fy_node_pair *p = scn_map_find(item->node, name, strlen(name));
    return p != NULL ? pair_child(c, item, p, name, path) : *item;
}

/* A put's date: a payment period after which the class still runs (so a
 * coupon follows it), before the class is due in full, after the put
 * before it. */
static void check_put_period(scn_ctx *c, const scn_yv *item, const ipabs_tranche *tr,
                             int j, key_set s)
{
    char path[PATH_CAP];
    int p = tr->puts[j].period;
    scn_yv v = put_child(c, item, "period", path);
    int final = (s.ok & BIT(TR_LEGAL_FINAL)) ? tr->legal_final : c->deal->legal_final;
    if (j > 0 && p <= tr->puts[j - 1].period)
        scn_error(c, v.pos, v.path, "put periods must increase: %d follows %d", p,
                  tr->puts[j - 1].period);
    else if (final > 0 && p >= final)
        scn_error(c, v.pos, v.path,
                  "a put at period %d is on or after the class's legal final (%d): "
                  "no coupon period follows it; expected a period before %d",
                  p, final, final);
    else if (tr->expected_maturity > 0 && p >= tr->expected_maturity)
        scn_error(c, v.pos, v.path,
                  "a put at period %d is on or after the class's expected maturity "
                  "(%d), when it is due in full; expected a period before %d",
                  p, tr->expected_maturity, tr->expected_maturity);
}

/* The reset is said once: by the put, or by a coupon step, not both. */
static void check_put_reset(scn_ctx *c, const scn_yv *item, const ipabs_tranche *tr,
                            int j)
{
    char path[PATH_CAP];
    const ipabs_put *put = &tr->puts[j];
    for (int q = 0; q < tr->n_coupon_steps && put->reset; q++) {
        if (tr->coupon_steps[q].period != put->period + 1)
            continue;
        scn_yv v = put_child(c, item, "coupon", path);
        scn_error(c, v.pos, v.path,
                  "the coupon from period %d is given twice: by this put's reset and "
                  "by coupon_steps[%d]; give it once (the put's coupon, or the step)",
                  put->period + 1, q);
    }
}

/* puts: [{period, exercised, resold, coupon}, ...] of a senior class. */
static void read_puts(scn_ctx *c, const scn_yv *item, ipabs_tranche *tr, key_set s)
{
    char path[PATH_CAP];
    if (!(s.seen & BIT(TR_PUTS))) {
        if (s.ok & BIT(TR_PUT_SUPPORTER)) {
            scn_yv v = put_child(c, item, "put_supporter", path);
            scn_error(c, v.pos, v.path,
                      "names who buys the securities put, but the class has no puts; "
                      "expected puts: [...] beside it, or no put_supporter");
        }
        return;
    }
    scn_yv v = pair_child(c, item, scn_map_find(item->node, "puts", 4), "puts", path);
    if (!fy_node_is_sequence(v.node)) {
        expected(c, &v, "a sequence of {period, exercised, resold, coupon} mappings");
        return;
    }
    if ((s.ok & BIT(TR_CLASS)) && tr->cls != IPABS_CLASS_SENIOR) {
        scn_error(c, v.pos, v.path,
                  "a holder's put is for a senior class; this class is sub");
        return;
    }
    int n = fy_node_sequence_item_count(v.node);
    if (n == 0)
        return;
    if ((tr->puts = calloc((size_t)n, sizeof *tr->puts)) == NULL) {
        scn_oom(c);
        return;
    }
    tr->n_puts = n;
    for (int j = 0; j < n; j++) {
        char ipath[PATH_CAP];
        scn_yv put = seq_item(c, &v, j, ipath);
        key_set ks = read_mapping(c, &put, &tr->puts[j], put_keys, PUT_N);
        tr->puts[j].reset = (ks.ok & BIT(PUT_COUPON)) != 0;
        if (ks.ok & BIT(PUT_PERIOD))
            check_put_period(c, &put, tr, j, s);
        check_put_reset(c, &put, tr, j);
    }
}

/* target[t] for t = 0..deal.legal_final: the balance, then the schedule,
 * held at its last value. */
static void build_targets(scn_ctx *c, ipabs_tranche *tr, const double *x,
                          int n)
{
    int deal_final = c->deal->legal_final;
    if (deal_final <= 0)
        return; /* already reported */
    tr->target = calloc((size_t)deal_final + 1, sizeof *tr->target);
    if (tr->target == NULL) {
        scn_oom(c);
        return;
    }
    tr->target[0] = tr->balance;
    for (int t = 1; t <= deal_final; t++)
        tr->target[t] = x[(t < n ? t : n) - 1];
}

static void read_tranche_schedule(scn_ctx *c, const scn_yv *item,
                                  ipabs_tranche *tr, key_set s)
{
    char path[PATH_CAP];
    scn_yv sv = pair_child(c, item, scn_map_find(item->node, "schedule", 8),
                           "schedule", path);
    bool balance_ok = (s.ok & BIT(TR_BALANCE)) != 0;
    list_rule rule = {{0.0, balance_ok ? tr->balance : INFINITY, false, false},
                      -1, "target balances"};
    double *x = NULL;
    int n = 0;
    if (!read_number_list(c, &sv, &rule, &x, &n))
        return;
    if (tr->legal_final > 0 && n > tr->legal_final)
        scn_error(c, sv.pos, sv.path,
                  "has %d target balances but the tranche's legal final is "
                  "period %d", n, tr->legal_final);
    else
        build_targets(c, tr, x, n);
    free(x);
}

static void check_tranche_schedule(scn_ctx *c, const scn_yv *item,
                                   ipabs_tranche *tr, key_set s)
{
    bool given = (s.seen & BIT(TR_SCHEDULE)) != 0;
    bool amort_known = !(s.seen & BIT(TR_AMORT)) || (s.ok & BIT(TR_AMORT));
    if (!amort_known || !fy_node_is_mapping(item->node))
        return;
    bool scheduled = tr->amort == IPABS_TRANCHE_SCHEDULED;
    if (scheduled && !given) {
        report_missing_key(c, item, "schedule",
                           " (amortisation: scheduled needs a target balance "
                           "per period)");
    } else if (!scheduled && given) {
        char path[PATH_CAP];
        scn_yv sv = pair_child(c, item, scn_map_find(item->node, "schedule", 8),
                               "schedule", path);
        scn_error(c, sv.pos, sv.path,
                  "only a tranche with amortisation: scheduled takes a "
                  "schedule (this one is %s)",
                  ipabs_tranche_amort_name(tr->amort));
    } else if (given) {
        read_tranche_schedule(c, item, tr, s);
    }
}

/* The expected maturity falls on or before the class's legal final: past
 * it, the unpaid principal is written off, not due. */
static void check_expected_maturity(scn_ctx *c, const scn_yv *item,
                                    const ipabs_tranche *tr, key_set s)
{
    if (!(s.ok & BIT(TR_EXPECTED_MATURITY)) || tr->legal_final <= 0 ||
        tr->expected_maturity <= tr->legal_final)
        return;
    char path[PATH_CAP];
    scn_yv v = pair_child(c, item, scn_map_find(item->node, "expected_maturity", 17),
                          "expected_maturity", path);
    scn_error(c, v.pos, v.path,
              "must be <= the tranche's legal_final (%d) (got %d)",
              tr->legal_final, tr->expected_maturity);
}

static key_set read_tranche(scn_ctx *c, const scn_yv *seq, int i)
{
    char path[PATH_CAP];
    scn_yv item = seq_item(c, seq, i, path);
    ipabs_tranche *tr = &c->deal->tranches[i];
    tr->legal_final = c->deal->legal_final; /* default */
    key_set s = read_mapping(c, &item, tr, tranche_keys, TR_N);
    tr->daycount_given = (s.ok & BIT(TR_DAY_COUNT)) != 0;
    check_tranche_schedule(c, &item, tr, s);
    read_coupon_steps(c, &item, tr, s);
    check_expected_maturity(c, &item, tr, s);
    read_puts(c, &item, tr, s);
    return s;
}

static void report_senior_after_sub(scn_ctx *c, const scn_yv *seq, int i,
                                    int sub)
{
    char path[PATH_CAP], class_path[PATH_CAP], name[TEXT_CAP], sub_name[TEXT_CAP];
    scn_yv item = seq_item(c, seq, i, path);
    scn_yv cls = pair_child(c, &item, scn_map_find(item.node, "class", 5),
                            "class", class_path);
    const ipabs_tranche *t = c->deal->tranches;
    scn_clip(t[i].name ? t[i].name : "?", name, sizeof name);
    scn_clip(t[sub].name ? t[sub].name : "?", sub_name, sizeof sub_name);
    scn_error(c, cls.pos, cls.path,
              "senior tranche '%s' is listed after sub tranche '%s'; tranches "
              "are in priority order, so list every senior tranche first",
              name, sub_name);
}

/* Seniors first, and at least one of them. */
static void check_tranche_order(scn_ctx *c, const scn_yv *seq,
                                const key_set *sets)
{
    const ipabs_deal *d = c->deal;
    int first_sub = -1;
    bool any_senior = false, all_known = true;
    for (int i = 0; i < d->n_tranches; i++) {
        if (!(sets[i].ok & BIT(TR_CLASS))) {
            all_known = false;
        } else if (d->tranches[i].cls == IPABS_CLASS_SUB) {
            if (first_sub < 0)
                first_sub = i;
        } else {
            any_senior = true;
            if (first_sub >= 0)
                report_senior_after_sub(c, seq, i, first_sub);
        }
    }
    if (!any_senior && all_known)
        scn_error(c, seq->key_pos, seq->path,
                  "needs at least one senior tranche (class: senior)");
}

static bool read_tranches(scn_ctx *c, const scn_yv *v, void *base,
                          const key_spec *k)
{
    ipabs_deal *d = base;
    size_t before = ipabs_errors_total(c->errors);
    int count = fy_node_is_sequence(v->node)
                    ? fy_node_sequence_item_count(v->node) : 0;
    (void)k;
    c->tranches_key_pos = v->key_pos;
    c->tranches_ok = false;
    if (count <= 0) {
        expected(c, v, "a non-empty sequence of tranches");
        return false;
    }
    scn_yv seq;
    key_set *sets = calloc((size_t)count, sizeof *sets);
    d->tranches = calloc((size_t)count, sizeof *d->tranches);
    if (sets == NULL || d->tranches == NULL || !gather_items(c, v, count, &seq)) {
        if (sets == NULL || d->tranches == NULL)
            scn_oom(c);
        free(sets);
        return false;
    }
    d->n_tranches = count;
    for (int i = 0; i < count; i++)
        sets[i] = read_tranche(c, &seq, i);
    check_unique_names(c, &seq, count, "tranche");
    check_tranche_order(c, &seq, sets);
    free(seq.items);
    free(sets);
    c->tranches_ok = ipabs_errors_total(c->errors) == before;
    return c->tranches_ok;
}

/* ---- expenses ------------------------------------------------------------- */

enum { EX_NAME, EX_RATE, EX_FIXED, EX_DAY_COUNT, EX_N };

static bool read_expense_amount(scn_ctx *c, const scn_yv *v, ipabs_expense *e,
                                const key_spec *k, ipabs_expense_basis basis)
{
    if (!yaml_number(c, v, &k->range, false, &e->amount))
        return false;
    e->basis = basis;
    return true;
}

static bool read_expense_rate(scn_ctx *c, const scn_yv *v, void *base,
                              const key_spec *k)
{
    return read_expense_amount(c, v, base, k, IPABS_EXPENSE_SENIOR_RATE);
}

static bool read_expense_fixed(scn_ctx *c, const scn_yv *v, void *base,
                               const key_spec *k)
{
    return read_expense_amount(c, v, base, k, IPABS_EXPENSE_FIXED);
}

static const key_spec expense_keys[EX_N] = {
    [EX_NAME] = {.name = "name", .read = read_string, .required = true,
                 .offset = offsetof(ipabs_expense, name)},
    [EX_RATE] = {.name = "rate_on_senior", .read = read_expense_rate,
                 .range = R_UNIT_OPEN},
    [EX_FIXED] = {.name = "fixed_per_year", .read = read_expense_fixed,
                  .range = R_AMOUNT},
    [EX_DAY_COUNT] = {.name = "day_count", .read = read_choice,
                      .offset = offsetof(ipabs_expense, daycount),
                      .choices = daycount_choices},
};

static void read_expense(scn_ctx *c, const scn_yv *seq, int i)
{
    char path[PATH_CAP];
    scn_yv item = seq_item(c, seq, i, path);
    key_set s = read_mapping(c, &item, &c->deal->expenses[i], expense_keys, EX_N);
    c->deal->expenses[i].daycount_given = (s.ok & BIT(EX_DAY_COUNT)) != 0;
    bool rate = (s.seen & BIT(EX_RATE)) != 0;
    bool fixed = (s.seen & BIT(EX_FIXED)) != 0;
    if (rate && fixed)
        scn_error(c, item.pos, item.path,
                  "give exactly one of rate_on_senior and fixed_per_year, "
                  "not both");
    else if (!rate && !fixed && fy_node_is_mapping(item.node))
        scn_error(c, item.key_pos, item.path,
                  "missing the amount: give rate_on_senior or fixed_per_year");
}

static bool read_expenses(scn_ctx *c, const scn_yv *v, void *base,
                          const key_spec *k)
{
    ipabs_deal *d = base;
    size_t before = ipabs_errors_total(c->errors);
    (void)k;
    if (!fy_node_is_sequence(v->node)) {
        expected(c, v, "a sequence of expenses ([] for none)");
        return false;
    }
    int count = fy_node_sequence_item_count(v->node);
    if (count == 0)
        return true;
    if ((d->expenses = calloc((size_t)count, sizeof *d->expenses)) == NULL) {
        scn_oom(c);
        return false;
    }
    scn_yv seq;
    if (!gather_items(c, v, count, &seq))
        return false;
    d->n_expenses = count;
    for (int i = 0; i < count; i++)
        read_expense(c, &seq, i);
    check_unique_names(c, &seq, count, "expense");
    free(seq.items);
    return ipabs_errors_total(c->errors) == before;
}

/* ---- the priority of payments as data (issue 9) ----------------------------- */

/* plan.priority_of_payments: {normal, after_acceleration, after_default},
 * each a sequence of steps from a small vocabulary, compiled into the deal
 * (class and expense names to indexes) so that the waterfall looks nothing
 * up by name.  Names are found by binary search in sorted copies, so an
 * order of n steps over m classes costs O((n + m) log m). */

typedef struct pop_reader {
    scn_ctx *c;
    ipabs_deal *d;
    ipabs_pop *p;
    const scn_yv *order;
    named_item *classes, *expenses; /* sorted by name */
    int *interest_at, *principal_at, *expense_at; /* step item + 1; 0 = not yet */
    int taxes_at, reserve_at, reimbursement_at, deficiency_at, residual_at;
    int cap_steps, cap_classes;
} pop_reader;

static int compare_name_only(const void *key, const void *item)
{
    return strcmp(key, ((const named_item *)item)->name);
}

static named_item *sorted_names(scn_ctx *c, int n, const char *(*name)(const ipabs_deal *, int))
{
    named_item *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (v == NULL) {
        scn_oom(c);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        v[i] = (named_item){name(c->deal, i), i};
    qsort(v, (size_t)n, sizeof *v, compare_named);
    return v;
}

static const char *tranche_name(const ipabs_deal *d, int k)
{
    return d->tranches[k].name;
}

static const char *expense_name(const ipabs_deal *d, int e)
{
    return d->expenses[e].name;
}

static int find_named(const named_item *v, int n, const char *name)
{
    const named_item *hit = bsearch(name, v, (size_t)n, sizeof *v, compare_name_only);
    return hit != NULL ? hit->index : -1;
}

/* Each item is paid by one step only: *at holds the first step's item. */
static bool pop_once(pop_reader *r, const scn_yv *item, int i, int *at, const char *what,
                     const char *name)
{
    if (*at == 0) {
        *at = i + 1;
        return true;
    }
    char text[TEXT_CAP];
    scn_clip(name != NULL ? name : "", text, sizeof text);
    scn_error(r->c, item->pos, item->path, "%s%s%s%s is paid twice: already by step %d",
              what, name != NULL ? " '" : "", text, name != NULL ? "'" : "", *at);
    return false;
}

static void pop_add_step(pop_reader *r, ipabs_pop_op op, int index)
{
    if (r->p->n_steps < r->cap_steps)
        r->p->steps[r->p->n_steps++] = (ipabs_pop_step){op, index, r->p->n_classes, 0};
}

static const char *const pop_words =
    "taxes, expenses, reserve, reimbursement, deficiency, residual, or a mapping "
    "'expense: NAME', 'interest: CLASS or [CLASSES]', 'principal: CLASS or [CLASSES]'";

static void pop_word(pop_reader *r, const scn_yv *item, int i, const char *w)
{
    int *at = strcmp(w, "taxes") == 0           ? &r->taxes_at
              : strcmp(w, "reserve") == 0       ? &r->reserve_at
              : strcmp(w, "reimbursement") == 0 ? &r->reimbursement_at
              : strcmp(w, "deficiency") == 0    ? &r->deficiency_at
              : strcmp(w, "residual") == 0      ? &r->residual_at
                                                : NULL;
    if (strcmp(w, "expenses") == 0) {
        for (int e = 0; e < r->d->n_expenses; e++)
            if (pop_once(r, item, i, &r->expense_at[e], "the expense", r->d->expenses[e].name))
                pop_add_step(r, IPABS_POP_EXPENSE, e);
        return;
    }
    if (at == NULL) {
        char text[TEXT_CAP];
        scn_clip(w, text, sizeof text);
        scn_error(r->c, item->pos, item->path, "unknown step '%s'; expected %s", text, pop_words);
        return;
    }
    if (!pop_once(r, item, i, at, w, NULL))
        return;
    ipabs_pop_op op = at == &r->taxes_at           ? IPABS_POP_TAXES
                      : at == &r->reserve_at       ? IPABS_POP_RESERVE
                      : at == &r->reimbursement_at ? IPABS_POP_REIMBURSEMENT
                      : at == &r->deficiency_at    ? IPABS_POP_DEFICIENCY
                                                   : IPABS_POP_RESIDUAL;
    pop_add_step(r, op, -1);
}

/* One class name of an interest or principal step; its index, or -1. */
static int pop_class(pop_reader *r, const scn_yv *name_v)
{
    const char *name = fy_node_is_scalar(name_v->node) ? scalar_text(name_v->node) : NULL;
    if (name == NULL) {
        expected(r->c, name_v, "a tranche name");
        return -1;
    }
    int k = find_named(r->classes, r->d->n_tranches, name);
    if (k < 0) {
        char text[TEXT_CAP];
        scn_clip(name, text, sizeof text);
        scn_error(r->c, name_v->pos, name_v->path, "no tranche named '%s' in plan.tranches",
                  text);
    }
    return k;
}

/* interest: CLASS | [CLASSES] (pro rata, all senior or all sub) and
 * principal: CLASS | [CLASSES] (sequential). */
static void pop_classes(pop_reader *r, const scn_yv *value, int i, bool interest)
{
    bool list = fy_node_is_sequence(value->node);
    int n = list ? fy_node_sequence_item_count(value->node) : 1;
    if (n < 1) {
        expected(r->c, value, "a tranche name or a non-empty sequence of them");
        return;
    }
    ipabs_pop_step st = {interest ? IPABS_POP_INTEREST : IPABS_POP_PRINCIPAL, -1,
                         r->p->n_classes, 0};
    int seniority = -1;
    for (int j = 0; j < n; j++) {
        char path[PATH_CAP];
        scn_yv name_v = list ? seq_item(r->c, value, j, path) : *value;
        int k = pop_class(r, &name_v);
        if (k < 0)
            continue;
        int senior = r->d->tranches[k].cls == IPABS_CLASS_SENIOR;
        if (interest && seniority >= 0 && senior != seniority) {
            scn_error(r->c, name_v.pos, name_v.path,
                      "interest paid pro rata is of senior classes or of sub classes, "
                      "not both");
            continue;
        }
        seniority = senior;
        int *at = interest ? &r->interest_at[k] : &r->principal_at[k];
        if (!pop_once(r, &name_v, i, at, interest ? "the interest of" : "the principal of",
                      r->d->tranches[k].name) || r->p->n_classes >= r->cap_classes)
            continue;
        r->p->classes[r->p->n_classes++] = k;
        st.n++;
    }
    if (st.n > 0 && r->p->n_steps < r->cap_steps)
        r->p->steps[r->p->n_steps++] = st;
}

static void pop_mapping_step(pop_reader *r, const scn_yv *item, int i)
{
    if (fy_node_mapping_item_count(item->node) != 1) {
        expected(r->c, item, "a step with one key (expense, interest or principal)");
        return;
    }
    void *iter = NULL;
    struct fy_node_pair *pair = fy_node_mapping_iterate(item->node, &iter);
    char path[PATH_CAP];
    scn_yv value;
    const char *key = named_child(r->c, item, pair, path, &value);
    if (key == NULL)
        return;
    if (strcmp(key, "interest") == 0 || strcmp(key, "principal") == 0) {
        pop_classes(r, &value, i, key[0] == 'i');
    } else if (strcmp(key, "expense") == 0) {
        const char *name = fy_node_is_scalar(value.node) ? scalar_text(value.node) : NULL;
        int e = name != NULL ? find_named(r->expenses, r->d->n_expenses, name) : -1;
        if (e < 0) {
            expected(r->c, &value, "the name of an expense in plan.expenses");
            return;
        }
        if (pop_once(r, &value, i, &r->expense_at[e], "the expense", name))
            pop_add_step(r, IPABS_POP_EXPENSE, e);
    } else {
        char text[TEXT_CAP];
        scn_clip(key, text, sizeof text);
        scn_error(r->c, value.key_pos, value.path, "unknown step '%s'; expected %s", text,
                  pop_words);
    }
}

/* What every order must pay, once: taxes, each expense, each class's
 * interest and principal, and the residual last; the reimbursement unless
 * top-ups are never repaid; the reserve when it has a target; the
 * deficiency ledger with split accounts whose principal covers revenue. */
static void pop_check_complete(pop_reader *r, int count)
{
    const ipabs_deal *d = r->d;
    scn_ctx *c = r->c;
    const scn_yv *o = r->order;
    char text[TEXT_CAP];
    if (r->taxes_at == 0)
        scn_error(c, o->key_pos, o->path, "misses the step taxes");
    for (int e = 0; e < d->n_expenses; e++)
        if (r->expense_at[e] == 0) {
            scn_clip(d->expenses[e].name, text, sizeof text);
            scn_error(c, o->key_pos, o->path, "misses the expense '%s'", text);
        }
    for (int k = 0; k < d->n_tranches; k++) {
        scn_clip(d->tranches[k].name, text, sizeof text);
        if (r->interest_at[k] == 0)
            scn_error(c, o->key_pos, o->path, "misses the interest of '%s'", text);
        if (r->principal_at[k] == 0)
            scn_error(c, o->key_pos, o->path, "misses the principal of '%s'", text);
    }
    if (r->residual_at == 0)
        scn_error(c, o->key_pos, o->path, "misses the step residual (the last step)");
    else if (r->residual_at != count)
        scn_error(c, o->key_pos, o->path, "residual is step %d of %d; it must be the last",
                  r->residual_at, count);
    bool repaid = d->guarantor.reimbursement != IPABS_REIMBURSE_NONE;
    if (repaid != (r->reimbursement_at > 0))
        scn_error(c, o->key_pos, o->path,
                  repaid ? "misses the step reimbursement (guarantor.topup_reimbursement "
                           "is not none: top-ups are repaid)"
                         : "has a step reimbursement but guarantor.topup_reimbursement is "
                           "none (top-ups are never repaid)");
    if (d->reserve_target > 0.0 && r->reserve_at == 0)
        scn_error(c, o->key_pos, o->path,
                  "misses the step reserve (plan.reserve.target is %.2f)", d->reserve_target);
    bool split = d->accounts == IPABS_ACCOUNTS_SPLIT;
    if (r->deficiency_at > 0 && !split)
        scn_error(c, o->key_pos, o->path,
                  "has a step deficiency but plan.accounts is single (no principal "
                  "deficiency ledger)");
    if (split && d->principal_covers_revenue && r->deficiency_at == 0)
        scn_error(c, o->key_pos, o->path,
                  "misses the step deficiency (split accounts whose principal covers "
                  "revenue keep a principal deficiency ledger)");
}

static void pop_reader_free(pop_reader *r)
{
    free(r->classes);
    free(r->expenses);
    free(r->interest_at);
    free(r->principal_at);
    free(r->expense_at);
}

static bool read_pop_order(scn_ctx *c, const scn_yv *v, ipabs_deal *d, ipabs_pop_kind kind)
{
    size_t before = ipabs_errors_total(c->errors);
    if (!fy_node_is_sequence(v->node)) {
        expected(c, v, "a sequence of steps");
        return false;
    }
    for (int k = 0; k < d->n_tranches; k++)
        if (d->tranches[k].name == NULL)
            return false; /* the tranches' errors are already reported */
    for (int e = 0; e < d->n_expenses; e++)
        if (d->expenses[e].name == NULL)
            return false; /* so are the expenses' (fuzz: a nameless expense) */
    int count = fy_node_sequence_item_count(v->node);
    ipabs_pop *p = &d->pop[kind];
    pop_reader r = {.c = c, .d = d, .p = p, .order = v};
    r.cap_steps = count + d->n_expenses + 1;
    r.cap_classes = 2 * d->n_tranches + 1;
    p->steps = malloc((size_t)r.cap_steps * sizeof *p->steps);
    p->classes = malloc((size_t)r.cap_classes * sizeof *p->classes);
    r.classes = sorted_names(c, d->n_tranches, tranche_name);
    r.expenses = sorted_names(c, d->n_expenses, expense_name);
    r.interest_at = calloc((size_t)d->n_tranches + 1, sizeof *r.interest_at);
    r.principal_at = calloc((size_t)d->n_tranches + 1, sizeof *r.principal_at);
    r.expense_at = calloc((size_t)d->n_expenses + 1, sizeof *r.expense_at);
    scn_yv seq;
    if (p->steps == NULL || p->classes == NULL || r.classes == NULL || r.expenses == NULL ||
        r.interest_at == NULL || r.principal_at == NULL || r.expense_at == NULL ||
        !gather_items(c, v, count, &seq)) {
        scn_oom(c);
        pop_reader_free(&r);
        return false;
    }
    for (int i = 0; i < count; i++) {
        char path[PATH_CAP];
        scn_yv item = seq_item(c, &seq, i, path);
        const char *w = fy_node_is_scalar(item.node) && is_plain(c, item.node)
                            ? scalar_text(item.node) : NULL;
        if (w != NULL)
            pop_word(&r, &item, i, w);
        else if (fy_node_is_mapping(item.node))
            pop_mapping_step(&r, &item, i);
        else
            expected(c, &item, "a step (taxes, expenses, interest: CLASS, ...)");
    }
    free(seq.items);
    pop_check_complete(&r, count);
    pop_reader_free(&r);
    d->pop_given[kind] = ipabs_errors_total(c->errors) == before;
    return d->pop_given[kind];
}

static bool read_pop_normal(scn_ctx *c, const scn_yv *v, void *base, const key_spec *k)
{
    (void)k;
    return read_pop_order(c, v, base, IPABS_POP_NORMAL);
}

static bool read_pop_accelerated(scn_ctx *c, const scn_yv *v, void *base, const key_spec *k)
{
    (void)k;
    return read_pop_order(c, v, base, IPABS_POP_ACCELERATED);
}

static bool read_pop_defaulted(scn_ctx *c, const scn_yv *v, void *base, const key_spec *k)
{
    (void)k;
    return read_pop_order(c, v, base, IPABS_POP_DEFAULTED);
}

static const key_spec pop_keys[] = {
    {.name = "normal", .read = read_pop_normal},
    {.name = "after_acceleration", .read = read_pop_accelerated},
    {.name = "after_default", .read = read_pop_defaulted},
};

/* ---- the tables ----------------------------------------------------------- */

static const scn_choice frequency_choices[] = {
    {"monthly", 12}, {"quarterly", 4}, {"semiannual", 2}, {"annual", 1},
    {NULL, 0}};

static const scn_choice business_day_choices[] = {
    {"unadjusted", IPABS_BDAY_UNADJUSTED},
    {"following", IPABS_BDAY_FOLLOWING},
    {"modified_following", IPABS_BDAY_MODIFIED_FOLLOWING},
    {"preceding", IPABS_BDAY_PRECEDING},
    {NULL, 0}};

static const scn_choice payout_choices[] = {
    {"accelerated", IPABS_PAYOUT_ACCELERATED},
    {"scheduled", IPABS_PAYOUT_SCHEDULED},
    {NULL, 0}};

static const scn_choice pledgee_choices[] = {
    {"guarantor", IPABS_PLEDGEE_GUARANTOR},
    {"plan", IPABS_PLEDGEE_PLAN},
    {NULL, 0}};

static const scn_choice reimbursement_choices[] = {
    {"after_senior_principal", IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL},
    {"after_senior_interest", IPABS_REIMBURSE_AFTER_SENIOR_INTEREST},
    {"before_residual", IPABS_REIMBURSE_BEFORE_RESIDUAL},
    {"none", IPABS_REIMBURSE_NONE},
    {NULL, 0}};

static const scn_choice accounts_choices[] = {
    {"single", IPABS_ACCOUNTS_SINGLE}, {"split", IPABS_ACCOUNTS_SPLIT}, {NULL, 0}};

static const scn_choice importance_choices[] = {
    {"off", IPABS_IMPORTANCE_OFF},
    {"auto", IPABS_IMPORTANCE_AUTO},
    {NULL, 0}};

static const scn_choice copula_choices[] = {
    {"gaussian", IPABS_COPULA_GAUSSIAN},
    {"student_t", IPABS_COPULA_STUDENT_T},
    {NULL, 0}};

#define DEAL(f) offsetof(ipabs_deal, f)
#define GUARANTOR(f) offsetof(ipabs_guarantor, f)
#define TRIGGERS(f) offsetof(ipabs_triggers, f)
#define MODEL(f) offsetof(ipabs_model, f)
#define SIMULATION(f) offsetof(ipabs_simulation, f)
#define SECTION(table) .read = read_section, .sub = (table), .n_sub = N_OF(table)

static const key_spec deal_keys[] = {
    {.name = "name", .read = read_string, .required = true, .offset = DEAL(name)},
    {.name = "currency", .read = read_string, .offset = DEAL(currency)},
    {.name = "closing_date", .read = read_date, .required = true,
     .offset = DEAL(closing)},
    {.name = "frequency", .read = read_choice, .offset = DEAL(frequency),
     .choices = frequency_choices},
    {.name = "legal_final", .read = read_int, .required = true,
     .offset = DEAL(legal_final), .range = R_PERIODS},
    {.name = "day_count", .read = read_choice, .offset = DEAL(daycount),
     .choices = daycount_choices},
    {.name = "business_day", .read = read_choice, .offset = DEAL(business_day),
     .choices = business_day_choices},
    {.name = "calendar", .read = read_calendar_key},
};

static const key_spec loans_keys[] = {
    {.name = "tape", .read = read_tape_key, .required = true},
    {.name = "day_count", .read = read_loan_daycount,
     .offset = DEAL(loan_daycount), .choices = daycount_choices},
    {.name = "prepayment_cpr", .read = read_number,
     .offset = DEAL(prepayment_cpr), .range = R_UNIT_OPEN},
    {.name = "schedule", .read = read_schedule_key},
    {.name = "frequency", .read = read_loan_frequency, .choices = frequency_choices},
    {.name = "transfer_lag", .read = read_transfer_lag, .offset = DEAL(transfer_lag),
     .range = {0.0, 11.0, false, false}},
};

static const key_spec fee_keys[] = {
    {.name = "bank_agency_rate", .read = read_number,
     .offset = DEAL(bank_fee_rate), .range = R_UNIT_OPEN},
    {.name = "servicing_rate", .read = read_number,
     .offset = DEAL(servicing_fee_rate), .range = R_UNIT_OPEN},
};

static const key_spec guarantor_keys[] = {
    {.name = "name", .read = read_string, .required = true,
     .offset = GUARANTOR(name)},
    {.name = "rating", .read = read_string, .offset = GUARANTOR(rating)},
    {.name = "annual_pd", .read = read_number, .offset = GUARANTOR(pd_annual),
     .range = R_UNIT_OPEN},
    {.name = "payout_style", .read = read_choice,
     .offset = GUARANTOR(payout_style), .choices = payout_choices},
    {.name = "payout_lag", .read = read_int, .offset = GUARANTOR(payout_lag),
     .range = R_LAG},
    {.name = "capacity", .read = read_capacity, .offset = GUARANTOR(capacity),
     .range = R_AMOUNT},
    {.name = "topup", .read = read_bool, .offset = GUARANTOR(topup)},
    {.name = "recovery_rate", .read = read_number,
     .offset = GUARANTOR(recovery_rate), .range = R_UNIT},
    {.name = "recovery_lag", .read = read_int,
     .offset = GUARANTOR(recovery_lag), .range = R_LAG},
    {.name = "ip_pledgee", .read = read_choice,
     .offset = GUARANTOR(ip_pledgee), .choices = pledgee_choices},
    {.name = "topup_reimbursement", .read = read_choice,
     .offset = GUARANTOR(reimbursement), .choices = reimbursement_choices},
    {.name = "factor_loading", .read = read_number, .offset = GUARANTOR(loading),
     .range = R_LOADING},
};

static const key_spec reserve_keys[] = {
    {.name = "initial", .read = read_number, .offset = DEAL(reserve_initial),
     .range = R_AMOUNT},
    {.name = "target", .read = read_number, .offset = DEAL(reserve_target),
     .range = R_AMOUNT},
};

static const key_spec trigger_keys[] = {
    {.name = "guarantor_default", .read = read_bool,
     .offset = TRIGGERS(on_guarantor_default)},
    {.name = "cumulative_default_ratio", .read = read_number,
     .offset = TRIGGERS(cdr_threshold), .range = {0.0, 1.0, true, false}},
    {.name = "senior_interest_shortfall", .read = read_bool,
     .offset = TRIGGERS(on_senior_interest_shortfall)},
};

/* plan.call: the originator's optional call (赎回) on stated payment
 * dates; `exercise` is the date taken (0: not exercised), a number so that
 * --set and --grid can vary it. */
enum { CALL_PERIODS, CALL_EXERCISE, CALL_N };

static const key_spec call_keys[CALL_N] = {
    [CALL_PERIODS] = {.name = "periods", .read = read_later, .required = true},
    [CALL_EXERCISE] = {.name = "exercise", .read = read_int,
                       .offset = DEAL(call_exercise), .range = R_LAG},
};

/* The call dates: whole periods, increasing, within the deal. */
static bool read_call_periods(scn_ctx *c, const scn_yv *v, ipabs_deal *d)
{
    list_rule rule = {R_PERIODS, +1, "call periods"};
    double *x = NULL;
    int n = 0;
    if (!read_number_list(c, v, &rule, &x, &n))
        return false;
    bool ok = (d->call_periods = calloc((size_t)n, sizeof *d->call_periods)) != NULL;
    if (!ok)
        scn_oom(c);
    for (int i = 0; ok && i < n; i++) {
        d->call_periods[i] = (int)x[i];
        if (x[i] != floor(x[i]) || (i > 0 && x[i] == x[i - 1]) ||
            (d->legal_final > 0 && x[i] > d->legal_final)) {
            scn_error(c, v->pos, v->path,
                      "call periods must be whole periods, increasing, at most "
                      "deal.legal_final (%d); item %d is %g",
                      d->legal_final, i, x[i]);
            ok = false;
        }
    }
    free(x);
    if (ok)
        d->n_call_periods = n;
    return ok;
}

static bool read_call(scn_ctx *c, const scn_yv *v, void *base, const key_spec *k)
{
    (void)k;
    ipabs_deal *d = base;
    size_t before = ipabs_errors_total(c->errors);
    key_set s = read_mapping(c, v, d, call_keys, CALL_N);
    char path[PATH_CAP];
    if (s.seen & BIT(CALL_PERIODS)) {
        scn_yv pv = pair_child(c, v, scn_map_find(v->node, "periods", 7), "periods", path);
        read_call_periods(c, &pv, d);
    }
    bool listed = d->call_exercise == 0;
    for (int i = 0; i < d->n_call_periods; i++)
        listed |= d->call_periods[i] == d->call_exercise;
    if ((s.ok & BIT(CALL_EXERCISE)) && d->n_call_periods > 0 && !listed) {
        scn_yv ev = pair_child(c, v, scn_map_find(v->node, "exercise", 8), "exercise", path);
        scn_error(c, ev.pos, ev.path,
                  "the call is exercised on one of its periods or not at all (0); "
                  "period %d is not in plan.call.periods", d->call_exercise);
    }
    return ipabs_errors_total(c->errors) == before;
}

static const key_spec plan_keys[] = {
    {.name = "tax_rate", .read = read_number, .offset = DEAL(tax_rate),
     .range = R_UNIT_OPEN},
    {.name = "reserve", SECTION(reserve_keys)},
    {.name = "overcollateralised", .read = read_bool,
     .offset = DEAL(overcollateralised)},
    {.name = "cleanup_call", .read = read_number, .offset = DEAL(cleanup_call),
     .range = R_UNIT_OPEN},
    {.name = "call", .read = read_call},
    {.name = "accounts", .read = read_choice, .offset = DEAL(accounts),
     .choices = accounts_choices},
    {.name = "reinvestment_rate", .read = read_number,
     .offset = DEAL(reinvestment_rate), .range = R_UNIT_OPEN},
    {.name = "principal_covers_revenue", .read = read_bool,
     .offset = DEAL(principal_covers_revenue)},
    {.name = "tranches", .read = read_tranches, .required = true},
    {.name = "expenses", .read = read_expenses},
    {.name = "triggers", SECTION(trigger_keys), .offset = DEAL(triggers)},
    /* Last: its steps name the tranches and expenses read above. */
    {.name = "priority_of_payments", SECTION(pop_keys)},
};

static const key_spec model_keys[] = {
    {.name = "copula", .read = read_choice, .offset = MODEL(copula),
     .choices = copula_choices},
    /* Beyond 1e6 degrees of freedom the Student-t copula is the Gaussian
     * one to every printed digit, and from 1e20 its chi-square draw loses
     * all precision (a NaN default threshold). */
    {.name = "df", .read = read_number, .offset = MODEL(df),
     .range = {2.0, SCN_MAX_DF, true, false}},
    {.name = "correlation", .read = read_number, .offset = MODEL(correlation),
     .range = R_UNIT_OPEN},
    {.name = "pd_multiplier", .read = read_number,
     .offset = MODEL(pd_multiplier), .range = R_POSITIVE},
    {.name = "recovery_loading", .read = read_number,
     .offset = MODEL(recovery_loading), .range = R_LOADING},
    {.name = "importance", .read = read_choice, .offset = MODEL(importance),
     .choices = importance_choices},
    {.name = "sectors", .read = read_sectors, .range = R_LOADING},
    {.name = "pd_table", .read = read_pd_table, .range = R_UNIT_OPEN},
    {.name = "pd_curves", .read = read_pd_curves},
};

static const key_spec simulation_keys[] = {
    {.name = "paths", .read = read_paths, .offset = SIMULATION(paths),
     .range = {1.0, INFINITY, false, false}},
    {.name = "seed", .read = read_seed, .offset = SIMULATION(seed)},
};

/* ---- the rating section (issue 6; docs/rating.md) ------------------------- */

_Static_assert(sizeof(ipabs_default_rule) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_rating_tenor) == sizeof(int), "enum size");
_Static_assert(sizeof(ipabs_default_timing) == sizeof(int), "enum size");

static const scn_choice default_rule_choices[] = {
    {"pro_rata", IPABS_DEFAULT_PRO_RATA},
    {"largest_first", IPABS_DEFAULT_LARGEST_FIRST},
    {NULL, 0}};

static const scn_choice rating_tenor_choices[] = {
    {"wal", IPABS_TENOR_WAL}, {"legal_final", IPABS_TENOR_LEGAL_FINAL}, {NULL, 0}};

static const scn_choice timing_choices[] = {
    {"front", IPABS_TIMING_FRONT}, {"even", IPABS_TIMING_EVEN},
    {"back", IPABS_TIMING_BACK}, {NULL, 0}};

/* Items of a non-empty sequence; 0 (error recorded) otherwise. */
static int rating_list_count(scn_ctx *c, const scn_yv *v, const char *what)
{
    int count = fy_node_is_sequence(v->node) ? fy_node_sequence_item_count(v->node) : 0;
    if (count <= 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "a non-empty sequence of %s", what);
        expected(c, v, buf);
    }
    return count;
}

/* One int of a list: a choice (an enum) or a whole number. */
typedef bool (*int_item)(scn_ctx *c, const scn_yv *item, const key_spec *k, int *out);

static bool choice_item(scn_ctx *c, const scn_yv *item, const key_spec *k, int *out)
{
    return yaml_choice(c, item, k->choices, out);
}

static bool whole_item(scn_ctx *c, const scn_yv *item, const key_spec *k, int *out)
{
    double d;
    if (!yaml_number(c, item, &k->range, true, &d))
        return false;
    *out = (int)d;
    return true;
}

/* A non-empty sequence of ints into *list (replacing it), or false with
 * the errors recorded. */
static bool read_int_list(scn_ctx *c, const scn_yv *v, const key_spec *k, const char *what,
                          int_item read_item, int **list, int *n)
{
    int count = rating_list_count(c, v, what);
    int *x = count > 0 ? calloc((size_t)count, sizeof *x) : NULL;
    bool ok = x != NULL;
    scn_yv seq = *v;
    if (count > 0 && x == NULL)
        scn_oom(c);
    if (ok && !gather_items(c, v, count, &seq))
        ok = false;
    for (int i = 0; ok && i < count; i++) {
        char path[PATH_CAP];
        scn_yv item = seq_item(c, &seq, i, path);
        ok = read_item(c, &item, k, &x[i]);
    }
    free(seq.items);
    if (!ok) {
        free(x);
        return false;
    }
    free(*list);
    *list = x;
    *n = count;
    return true;
}

static bool read_timings(scn_ctx *c, const scn_yv *v, void *base,
                         const key_spec *k)
{
    ipabs_rating_terms *r = base;
    int *list = NULL, n = 0;
    if (!read_int_list(c, v, k, "timings (front, even, back)", choice_item, &list, &n))
        return false;
    /* The enum has the size of an int (asserted above) and only values
     * that an int holds. */
    free(r->timings);
    r->timings = (ipabs_default_timing *)list;
    r->n_timings = n;
    return true;
}

static bool read_recovery_multipliers(scn_ctx *c, const scn_yv *v, void *base,
                                      const key_spec *k)
{
    ipabs_rating_terms *r = base;
    list_rule rule = {k->range, 0, "recovery multipliers"};
    double *x = NULL;
    int n = 0;
    if (!read_number_list(c, v, &rule, &x, &n))
        return false;
    free(r->recovery_multipliers);
    r->recovery_multipliers = x;
    r->n_recovery_multipliers = n;
    return true;
}

static bool read_recovery_delays(scn_ctx *c, const scn_yv *v, void *base,
                                 const key_spec *k)
{
    ipabs_rating_terms *r = base;
    return read_int_list(c, v, k, "recovery delays (periods)", whole_item,
                         &r->recovery_delays, &r->n_recovery_delays);
}

/* One grade of rating.grades as read, before the table checks. */
typedef struct grade_read {
    const char *name;
    double *prob;
    int n;
    struct fy_node_pair *pair;
} grade_read;

/* Every grade has as many tenors as the first, and no grade is safer than
 * the one above it at any tenor. */
static bool check_grade(scn_ctx *c, const scn_yv *v, const grade_read *g, int i)
{
    char path[PATH_CAP], item_path[PATH_CAP];
    scn_yv list = pair_child(c, v, g[i].pair, g[i].name, path);
    if (g[i].n != g[0].n) {
        scn_error(c, list.pos, list.path,
                  "has %d target default probabilities but grade '%s' has %d; "
                  "every grade needs one per tenor year 1..%d",
                  g[i].n, g[0].name, g[0].n, g[0].n);
        return false;
    }
    for (int y = 0; i > 0 && y < g[i].n; y++) {
        if (g[i].prob[y] >= g[i - 1].prob[y])
            continue;
        scn_yv item = seq_item(c, &list, y, item_path);
        scn_error(c, item.pos, item.path,
                  "must be at least %.15g, grade '%s''s target default "
                  "probability at %d year%s: grades are listed best first",
                  g[i - 1].prob[y], g[i - 1].name, y + 1, y ? "s" : "");
        return false;
    }
    return true;
}

static bool store_grades(scn_ctx *c, ipabs_rating_terms *r, const grade_read *g,
                         int count)
{
    int tenors = g[0].n;
    r->grade_names = calloc((size_t)count, sizeof *r->grade_names);
    r->grade_prob = calloc((size_t)count * (size_t)tenors, sizeof *r->grade_prob);
    if (r->grade_names == NULL || r->grade_prob == NULL) {
        scn_oom(c);
        return false;
    }
    r->n_grades = count;
    r->n_tenors = tenors;
    for (int i = 0; i < count; i++) {
        memcpy(&r->grade_prob[(size_t)i * (size_t)tenors], g[i].prob,
               (size_t)tenors * sizeof(double));
        if ((r->grade_names[i] = scn_strdup(c, g[i].name)) == NULL)
            return false;
    }
    return true;
}

static bool read_grade_lists(scn_ctx *c, const scn_yv *v, grade_read *g)
{
    static const list_rule rule = {R_UNIT_OPEN, +1, "target default probabilities by tenor year"};
    bool ok = true;
    void *iter = NULL;
    struct fy_node_pair *p;
    for (int i = 0; (p = fy_node_mapping_iterate(v->node, &iter)) != NULL; i++) {
        char path[PATH_CAP];
        scn_yv item;
        g[i].pair = p;
        g[i].name = named_child(c, v, p, path, &item);
        if (g[i].name == NULL || !read_number_list(c, &item, &rule, &g[i].prob, &g[i].n))
            ok = false;
    }
    return ok;
}

static bool read_grades(scn_ctx *c, const scn_yv *v, void *base,
                        const key_spec *k)
{
    ipabs_rating_terms *r = base;
    int count = fy_node_is_mapping(v->node) ? fy_node_mapping_item_count(v->node) : 0;
    (void)k;
    if (count <= 0) {
        expected(c, v, "a non-empty mapping of grade names (best first) to "
                       "sequences of target default probabilities by tenor year");
        return false;
    }
    grade_read *g = calloc((size_t)count, sizeof *g);
    if (g == NULL) {
        scn_oom(c);
        return false;
    }
    bool ok = read_grade_lists(c, v, g);
    for (int i = 0; ok && i < count; i++)
        ok = check_grade(c, v, g, i);
    if (ok)
        ok = store_grades(c, r, g, count);
    for (int i = 0; i < count; i++)
        free(g[i].prob);
    free(g);
    return ok;
}

#define RATING(f) offsetof(ipabs_rating_terms, f)

static const key_spec rating_stress_keys[] = {
    {.name = "timing", .read = read_timings, .choices = timing_choices},
    {.name = "recovery_multiplier", .read = read_recovery_multipliers,
     .range = R_UNIT},
    {.name = "recovery_delay", .read = read_recovery_delays, .range = R_LAG},
};

static const key_spec rating_keys[] = {
    {.name = "default_rule", .read = read_choice, .offset = RATING(default_rule),
     .choices = default_rule_choices},
    {.name = "tenor", .read = read_choice, .offset = RATING(tenor),
     .choices = rating_tenor_choices},
    {.name = "stresses", SECTION(rating_stress_keys)},
    {.name = "grades", .read = read_grades},
};

/* Read in this order: deal and model first, as later sections are checked
 * against them. */
static const key_spec root_keys[] = {
    {.name = "deal", SECTION(deal_keys), .required = true},
    {.name = "model", SECTION(model_keys), .offset = DEAL(model)},
    {.name = "fees", SECTION(fee_keys)},
    {.name = "guarantor", .read = read_guarantor, .offset = DEAL(guarantor),
     .sub = guarantor_keys, .n_sub = N_OF(guarantor_keys)},
    {.name = "plan", SECTION(plan_keys), .required = true},
    {.name = "loans", SECTION(loans_keys), .required = true},
    {.name = "simulation", SECTION(simulation_keys), .offset = DEAL(simulation)},
    {.name = "rating", SECTION(rating_keys), .offset = DEAL(rating)},
};

void scn_read_document(scn_ctx *c)
{
    struct fy_node *root = fy_document_root(c->doc);
    scn_pos start = {c->yaml_path, 1, 1};
    scn_yv v = {root, "", start, start, NULL};
    v.pos = scn_node_pos(c, root, start);
    v.key_pos = v.pos;
    read_mapping(c, &v, c->deal, root_keys, N_OF(root_keys));
}
