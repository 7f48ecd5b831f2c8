/*
 * scenario.c — ipabs_scenario_load(), the entry point of the scenario
 * reader, and the helpers its parts share (messages, numbers, UTF-8,
 * "did you mean" suggestions, node positions).
 *
 * Order of work: read the YAML file (IPABS_EIO when it cannot be read),
 * check that it is UTF-8, parse it with libfyaml (syntax errors carry
 * libfyaml's position and message), apply the --set overrides to the
 * document, validate it against the key schema (scenario_yaml.c), read the
 * loan tape (scenario_tape.c), resolve the defaults that depend on other
 * keys and run the checks that need both files.  Every stage adds its
 * errors to the caller's list and the next stage still runs where it can,
 * so the user sees every problem of both files in one run.
 */
#include "ipabs/scenario.h"

#include "scenario_internal.h"

#include "ipabs/file.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ------------------------------------------------------------- */

void scn_error(scn_ctx *c, scn_pos at, const char *field, const char *fmt,
               ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    ipabs_errors_add(c->errors, IPABS_EINPUT, at.file, at.line, at.column,
                     field, "%s", message);
}

void scn_oom(scn_ctx *c)
{
    c->out_of_memory = true;
    ipabs_errors_add(c->errors, IPABS_ENOMEM, NULL, 0, 0, NULL,
                     "out of memory while reading the scenario");
}

char *scn_strdup(scn_ctx *c, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy == NULL) {
        scn_oom(c);
        return NULL;
    }
    memcpy(copy, s, n);
    return copy;
}

/* Control characters are written as escapes (\n, \t, \xNN) so that an
 * error stays on one line whatever the input holds (a quoted newline in a
 * tape header split a message in two). */
void scn_clip(const char *text, char *buf, size_t cap)
{
    size_t out = 0, n = strlen(text), i = 0;
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        char esc[8] = {(char)ch, '\0'};
        size_t len = 1;
        if (ch == '\n' || ch == '\r' || ch == '\t')
            len = (size_t)snprintf(esc, sizeof esc, "\\%c",
                                   ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't');
        else if (ch < 0x20 || ch == 0x7F)
            len = (size_t)snprintf(esc, sizeof esc, "\\x%02X", ch);
        /* Room for this, and for "..." unless it is the last byte. */
        if (out + len + (i + 1 < n ? 4 : 1) > cap)
            break;
        memcpy(buf + out, esc, len);
        out += len;
    }
    if (i < n) {
        /* Do not cut a UTF-8 character in two (its bytes were copied 1:1). */
        while (i > 0 && out > 0 && ((unsigned char)text[i] & 0xC0) == 0x80) {
            i--;
            out--;
        }
        memcpy(buf + out, "...", 4);
        return;
    }
    buf[out] = '\0';
}

/* ---- files ---------------------------------------------------------------- */

int scn_read_file(const char *path, long long max_bytes, char **out, size_t *len,
                  char *why, size_t cap)
{
    FILE *f = ipabs_file_open_regular(path, max_bytes, why, cap);
    if (f == NULL)
        return EIO;
    size_t size = 8192, n = 0;
    char *buf = malloc(size + 1);
    int failure = buf == NULL ? ENOMEM : 0;
    while (failure == 0) {
        if (n == size) {
            char *bigger = realloc(buf, 2 * size + 1);
            if (bigger == NULL) {
                failure = ENOMEM;
                break;
            }
            buf = bigger;
            size *= 2;
        }
        size_t got = fread(buf + n, 1, size - n, f);
        n += got;
        if ((long long)n > max_bytes) { /* it grew while being read */
            snprintf(why, cap, "larger than the limit of %lld MiB", max_bytes >> 20);
            failure = EFBIG;
        } else if (got == 0) {
            failure = ferror(f) ? EIO : -1;
            if (failure == EIO)
                snprintf(why, cap, "read error");
        }
    }
    fclose(f);
    if (failure > 0) {
        if (failure == ENOMEM)
            snprintf(why, cap, "out of memory");
        free(buf);
        return failure;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* ---- numbers -------------------------------------------------------------- */

bool scn_parse_number(const char *text, double *out)
{
    size_t n = strlen(text);
    if (n == 0 || strspn(text, "0123456789+-.eE") != n)
        return false;
    if (!isdigit((unsigned char)text[0]) && text[0] != '+' &&
        text[0] != '-' && text[0] != '.')
        return false;
    char *end = NULL;
    double x = strtod(text, &end);
    if (end != text + n || !isfinite(x))
        return false;
    *out = x;
    return true;
}

bool scn_in_range(double x, const scn_range *r)
{
    if (r->lo_open ? !(x > r->lo) : !(x >= r->lo))
        return false;
    if (r->hi_open ? !(x < r->hi) : !(x <= r->hi))
        return false;
    return true;
}

void scn_range_text(const scn_range *r, bool integer, char *buf, size_t cap)
{
    const char *what = integer ? "an integer" : "a number";
    bool has_lo = isfinite(r->lo), has_hi = isfinite(r->hi);
    if (has_lo && has_hi)
        snprintf(buf, cap, "%s in %c%.15g, %.15g%c", what,
                 r->lo_open ? '(' : '[', r->lo, r->hi, r->hi_open ? ')' : ']');
    else if (has_lo)
        snprintf(buf, cap, "%s %s %.15g", what, r->lo_open ? ">" : ">=", r->lo);
    else if (has_hi)
        snprintf(buf, cap, "%s %s %.15g", what, r->hi_open ? "<" : "<=", r->hi);
    else
        snprintf(buf, cap, "%s", what);
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n)
{
    unsigned char b = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF)
        len = 2;
    else if (b >= 0xE0 && b <= 0xEF)
        len = 3;
    else if (b >= 0xF0 && b <= 0xF4)
        len = 4;
    else
        return 0;
    if (b == 0xE0)
        lo = 0xA0;
    else if (b == 0xED)
        hi = 0x9F;
    else if (b == 0xF0)
        lo = 0x90;
    else if (b == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t scn_utf8_invalid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_sequence_length(u + i, n - i);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}

/* ---- suggestions ---------------------------------------------------------- */

enum { SUGGEST_MAX_LEN = 63 };

/* Levenshtein distance, ASCII case-insensitive; SIZE_MAX for long words. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];
    if (na > SUGGEST_MAX_LEN || nb > SUGGEST_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) !=
                          tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (nb + 1) * sizeof prev[0]);
    }
    return prev[nb];
}

void scn_suggest_init(scn_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->best_distance = SIZE_MAX;
}

void scn_suggest_offer(scn_suggest *s, const char *candidate)
{
    size_t d = edit_distance(s->word, candidate);
    if (d < s->best_distance) {
        s->best = candidate;
        s->best_distance = d;
    }
}

/* A plausible typo: at most 3 edits, and at most half the longer word (so
 * that "xy" does not suggest "df"). */
const char *scn_suggest_best(const scn_suggest *s)
{
    if (s->best == NULL)
        return NULL;
    size_t longer = strlen(s->word);
    if (strlen(s->best) > longer)
        longer = strlen(s->best);
    if (s->best_distance > 3 || 2 * s->best_distance > longer)
        return NULL;
    return s->best;
}

void scn_hint_text(const char *best, char *buf, size_t cap)
{
    if (best == NULL)
        buf[0] = '\0';
    else
        snprintf(buf, cap, "; did you mean '%s'?", best);
}

/* ---- node positions ------------------------------------------------------- */

static int override_index_of(const scn_ctx *c, struct fy_node *node)
{
    for (size_t i = 0; i < c->n_override_nodes; i++)
        if (c->override_nodes[i].node == node)
            return c->override_nodes[i].index;
    return -1;
}

bool scn_node_is_override(const scn_ctx *c, struct fy_node *node)
{
    return node != NULL && override_index_of(c, node) >= 0;
}

scn_pos scn_node_pos(const scn_ctx *c, struct fy_node *node, scn_pos fallback)
{
    if (node == NULL)
        return fallback;
    int index = override_index_of(c, node);
    if (index >= 0)
        return (scn_pos){"--set", index + 1, 0};
    void *iter = NULL;
    switch (fy_node_get_type(node)) {
    case FYNT_SCALAR: {
        const struct fy_mark *m =
            fy_token_start_mark(fy_node_get_scalar_token(node));
        if (m == NULL || m->line < 0)
            return fallback;
        /* libfyaml marks a quoted scalar after its opening quote. */
        enum fy_node_style style = fy_node_get_style(node);
        bool quoted = style == FYNS_SINGLE_QUOTED || style == FYNS_DOUBLE_QUOTED;
        return (scn_pos){c->yaml_path, m->line + 1,
                         m->column + (quoted && m->column > 0 ? 0 : 1)};
    }
    case FYNT_MAPPING: {
        struct fy_node_pair *first = fy_node_mapping_iterate(node, &iter);
        return first ? scn_node_pos(c, fy_node_pair_key(first), fallback)
                     : fallback;
    }
    case FYNT_SEQUENCE:
        return scn_node_pos(c, fy_node_sequence_iterate(node, &iter), fallback);
    }
    return fallback;
}

/* ---- the YAML document ---------------------------------------------------- */

/* The first byte that is not UTF-8, reported as line:column (column in
 * characters, as libfyaml counts them). */
static bool check_yaml_utf8(scn_ctx *c, const char *text, size_t len)
{
    size_t bad = scn_utf8_invalid(text, len);
    /* libfyaml stops at a NUL byte as at the end of the text: the rest of
     * the file would be silently ignored. */
    const char *nul = memchr(text, '\0', bad);
    bool is_nul = nul != NULL;
    if (is_nul)
        bad = (size_t)(nul - text);
    if (bad == len)
        return true;
    scn_pos at = {c->yaml_path, 1, 1};
    for (size_t i = 0; i < bad; i++) {
        if (text[i] == '\n') {
            at.line++;
            at.column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            at.column++;
        }
    }
    if (is_nul)
        scn_error(c, at, NULL, "a NUL byte; a scenario file must be text");
    else
        scn_error(c, at, NULL,
                  "invalid UTF-8 (byte 0x%02X); a scenario file must be UTF-8 text",
                  (unsigned char)text[bad]);
    return false;
}

static void report_yaml_diagnostics(scn_ctx *c, struct fy_diag *diag)
{
    size_t before = ipabs_errors_total(c->errors);
    void *iter = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(diag, &iter)) != NULL) {
        if (e->type < FYET_ERROR)
            continue;
        scn_pos at = {c->yaml_path, e->line > 0 ? e->line : 0,
                      e->column > 0 ? e->column : 0};
        scn_error(c, at, NULL, "YAML syntax error: %s",
                  e->msg ? e->msg : "(no message)");
    }
    if (ipabs_errors_total(c->errors) == before) /* libfyaml's verdict on an empty stream */
        scn_error(c, (scn_pos){c->yaml_path, 1, 0}, NULL,
                  "the scenario is empty; expected a mapping with the "
                  "sections deal, loans and plan");
}

/* ---- aliases and duplicate keys ------------------------------------------ */

/* Aliases are resolved (copied) only after this walk has found that their
 * expansion stays within SCN_MAX_NODES nodes and SCN_MAX_DEPTH levels: a
 * few kilobytes of nested aliases ("billion laughs") would otherwise
 * expand to gigabytes.  The walk stops as soon as the budget is spent, so
 * it costs at most SCN_MAX_NODES steps. */
typedef struct alias_walk {
    long budget;  /* nodes left */
    long aliases; /* alias nodes met */
    int widest;   /* most keys in one mapping */
} alias_walk;

static bool within_budget(struct fy_node *n, alias_walk *w, int depth)
{
    if (n == NULL)
        return true;
    if (--w->budget < 0 || depth > SCN_MAX_DEPTH)
        return false;
    if (fy_node_is_alias(n)) {
        w->aliases++;
        struct fy_node *target = fy_node_resolve_alias(n);
        return target == NULL || within_budget(target, w, depth + 1);
    }
    void *iter = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p;
        if (fy_node_mapping_item_count(n) > w->widest)
            w->widest = fy_node_mapping_item_count(n);
        while ((p = fy_node_mapping_iterate(n, &iter)) != NULL)
            if (!within_budget(fy_node_pair_key(p), w, depth + 1) ||
                !within_budget(fy_node_pair_value(p), w, depth + 1))
                return false;
    } else if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &iter)) != NULL)
            if (!within_budget(item, w, depth + 1))
                return false;
    }
    return true;
}

typedef struct key_ref {
    const char *text;
    size_t len;
    int order;
    struct fy_node *node;
} key_ref;

static int compare_keys(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int d = memcmp(x->text, y->text, n);
    if (d == 0)
        d = (x->len > y->len) - (x->len < y->len);
    return d != 0 ? d : (x->order > y->order) - (x->order < y->order);
}

/* Repeated scalar keys of one mapping, by sorting: O(n log n), where
 * libfyaml's own check compares every pair. */
static void check_mapping_keys(scn_ctx *c, struct fy_node *map)
{
    int n = fy_node_mapping_item_count(map);
    if (n < 2)
        return;
    key_ref *keys = malloc((size_t)n * sizeof *keys);
    if (keys == NULL) {
        scn_oom(c);
        return;
    }
    void *iter = NULL;
    struct fy_node_pair *p;
    int k = 0;
    while ((p = fy_node_mapping_iterate(map, &iter)) != NULL && k < n) {
        struct fy_node *key = fy_node_pair_key(p);
        size_t len = 0;
        const char *text = key && fy_node_is_scalar(key) ? fy_node_get_scalar(key, &len) : NULL;
        if (text != NULL) {
            keys[k] = (key_ref){text, len, k, key};
            k++;
        }
    }
    qsort(keys, (size_t)k, sizeof *keys, compare_keys);
    for (int i = 1, first = 0; i < k; i++) {
        if (keys[i].len != keys[first].len ||
            memcmp(keys[i].text, keys[first].text, keys[i].len) != 0) {
            first = i;
            continue;
        }
        char text[80], name[80];
        snprintf(name, sizeof name, "%.*s", (int)(keys[i].len < 79 ? keys[i].len : 79),
                 keys[i].text);
        scn_clip(name, text, sizeof text);
        scn_pos first_at = scn_node_pos(c, keys[first].node, (scn_pos){c->yaml_path, 0, 0});
        scn_error(c, scn_node_pos(c, keys[i].node, first_at), NULL,
                  "duplicate key '%s' (first at line %d)", text, first_at.line);
    }
    free(keys);
}

/* Every mapping of the (resolved) document; depth is bounded by the
 * parser's own nesting limit. */
static void check_duplicate_keys(scn_ctx *c, struct fy_node *n)
{
    void *iter = NULL;
    if (n == NULL)
        return;
    if (fy_node_is_mapping(n)) {
        check_mapping_keys(c, n);
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &iter)) != NULL)
            check_duplicate_keys(c, fy_node_pair_value(p));
    } else if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &iter)) != NULL)
            check_duplicate_keys(c, item);
    }
}

/* Aliases within bounds, then resolved; false (error recorded) if not.
 * A document without aliases is not handed to fy_document_resolve, whose
 * duplicate-key check compares every pair of keys of a mapping. */
static bool resolve_aliases(scn_ctx *c, struct fy_document *doc)
{
    alias_walk w = {SCN_MAX_NODES, 0, 0};
    if (!within_budget(fy_document_root(doc), &w, 0)) {
        scn_error(c, (scn_pos){c->yaml_path, 0, 0}, NULL,
                  "the document with its aliases expanded exceeds %d nodes or "
                  "%d levels of nesting; a scenario needs far fewer",
                  SCN_MAX_NODES, SCN_MAX_DEPTH);
        return false;
    }
    if (w.aliases > 0 && w.widest > SCN_MAX_ALIAS_MAP_KEYS) {
        scn_error(c, (scn_pos){c->yaml_path, 0, 0}, NULL,
                  "a document with aliases may have at most %d keys in one "
                  "mapping (it has %d)", SCN_MAX_ALIAS_MAP_KEYS, w.widest);
        return false;
    }
    return w.aliases == 0 || fy_document_resolve(doc) == 0;
}

/* Parse with libfyaml, its diagnostics collected rather than printed.
 * c->diag is destroyed (not merely unref'ed: that would leak the collected
 * errors) after the document, which holds a reference to it.  Duplicate
 * keys are allowed by the parser and found by check_duplicate_keys. */
static struct fy_document *parse_yaml(scn_ctx *c, const char *text, size_t len)
{
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = c->diag = fy_diag_create(&dcfg);
    if (diag == NULL) {
        scn_oom(c);
        return NULL;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {
        .flags = FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS, .diag = diag};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
    if (doc == NULL || fy_diag_got_error(diag) || fy_document_root(doc) == NULL) {
        report_yaml_diagnostics(c, diag);
        fy_document_destroy(doc);
        return NULL;
    }
    size_t before = ipabs_errors_total(c->errors);
    check_duplicate_keys(c, fy_document_root(doc));
    if (ipabs_errors_total(c->errors) > before || !resolve_aliases(c, doc)) {
        if (ipabs_errors_total(c->errors) == before)
            report_yaml_diagnostics(c, diag);
        fy_document_destroy(doc);
        return NULL;
    }
    return doc;
}

/* Read and parse the scenario into c->doc; *text keeps the source alive
 * (libfyaml refers to it) and is freed by the caller. */
static void load_document(scn_ctx *c, char **text)
{
    size_t len = 0;
    char why[160];
    int failure = scn_read_file(c->yaml_path, IPABS_SCENARIO_MAX_BYTES, text, &len,
                                why, sizeof why);
    if (failure == ENOMEM) {
        scn_oom(c);
        return;
    }
    if (failure != 0) {
        ipabs_errors_add(c->errors, IPABS_EIO, c->yaml_path, 0, 0, NULL,
                         "cannot read the scenario: %s", why);
        return;
    }
    if (check_yaml_utf8(c, *text, len))
        c->doc = parse_yaml(c, *text, len);
}

/* ---- --set overrides ------------------------------------------------------ */

enum { OVERRIDE_MAX_STEPS = 16 };

/* One step of an override key: a mapping key (index < 0) or a sequence
 * index; end is the offset just past the step in the key text. */
typedef struct override_step {
    const char *name;
    size_t len;
    long index;
    size_t end;
} override_step;

typedef struct override_path {
    override_step step[OVERRIDE_MAX_STEPS];
    int n;
} override_path;

static bool is_key_byte(unsigned char ch)
{
    return isalnum(ch) || ch == '_' || ch == '-' || ch >= 0x80;
}

static bool add_step(override_path *p, const char *name, size_t len,
                     long index, size_t end)
{
    if (p->n == OVERRIDE_MAX_STEPS)
        return false;
    p->step[p->n++] = (override_step){name, len, index, end};
    return true;
}

/* "[k]" at key[*i]; advances *i past it. */
static bool parse_index(const char *key, size_t len, size_t *i, long *index)
{
    size_t start = ++*i;
    long k = 0;
    while (*i < len && isdigit((unsigned char)key[*i]) && k < 1000000)
        k = 10 * k + (key[(*i)++] - '0');
    if (*i == start || *i >= len || key[*i] != ']')
        return false;
    ++*i;
    *index = k;
    return true;
}

/* name ( "[" digits "]" )* ( "." name ( "[" digits "]" )* )* */
static bool parse_override_key(const char *key, size_t len, override_path *p)
{
    size_t i = 0;
    p->n = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && is_key_byte((unsigned char)key[i]))
            i++;
        if (i == start || !add_step(p, key + start, i - start, -1, i))
            return false;
        while (i < len && key[i] == '[') {
            long index;
            if (!parse_index(key, len, &i, &index) ||
                !add_step(p, NULL, 0, index, i))
                return false;
        }
        if (i < len && (key[i] != '.' || i + 1 == len))
            return false;
        if (i < len)
            i++;
    }
    return p->n > 0;
}

static struct fy_node *override_descend(struct fy_node *node,
                                        const override_step *s)
{
    if (s->index < 0) {
        if (!fy_node_is_mapping(node))
            return NULL;
        struct fy_node_pair *pair = scn_map_find(node, s->name, s->len);
        return pair ? fy_node_pair_value(pair) : NULL;
    }
    if (!fy_node_is_sequence(node) ||
        s->index >= fy_node_sequence_item_count(node))
        return NULL;
    return fy_node_sequence_get_by_index(node, (int)s->index);
}

/* A scalar created for override `index`, remembered so that its errors
 * point at "--set". */
static struct fy_node *override_scalar(scn_ctx *c, const char *text,
                                       size_t len, int index)
{
    if (c->n_override_nodes == c->cap_override_nodes) {
        size_t cap = c->cap_override_nodes ? 2 * c->cap_override_nodes : 8;
        scn_override_node *bigger =
            realloc(c->override_nodes, cap * sizeof *bigger);
        if (bigger == NULL)
            return NULL;
        c->override_nodes = bigger;
        c->cap_override_nodes = cap;
    }
    struct fy_node *node = fy_node_create_scalar_copy(c->doc, text, len);
    if (node != NULL)
        c->override_nodes[c->n_override_nodes++] = (scn_override_node){node, index};
    return node;
}

/* Forget a node that is about to be freed (an earlier override of the
 * same key), so that a later node at the same address is not mistaken
 * for it. */
static void forget_override_node(scn_ctx *c, struct fy_node *node)
{
    for (size_t i = 0; i < c->n_override_nodes; i++)
        if (c->override_nodes[i].node == node)
            c->override_nodes[i].node = NULL;
}

static bool override_replace_item(scn_ctx *c, struct fy_node *seq, long k,
                                  const char *value, int index)
{
    struct fy_node *old = fy_node_sequence_get_by_index(seq, (int)k);
    struct fy_node *node = override_scalar(c, value, strlen(value), index);
    if (node == NULL || fy_node_sequence_insert_after(seq, old, node) != 0)
        return false;
    forget_override_node(c, old);
    fy_node_free(fy_node_sequence_remove(seq, old));
    return true;
}

static bool override_set_key(scn_ctx *c, struct fy_node *map,
                             const override_step *s, const char *value,
                             int index)
{
    struct fy_node_pair *pair = scn_map_find(map, s->name, s->len);
    struct fy_node *node = override_scalar(c, value, strlen(value), index);
    if (node == NULL)
        return false;
    if (pair != NULL) {
        forget_override_node(c, fy_node_pair_value(pair));
        return fy_node_pair_set_value(pair, node) == 0;
    }
    struct fy_node *key = override_scalar(c, s->name, s->len, index);
    return key != NULL && fy_node_mapping_append(map, key, node) == 0;
}

/* Set the last step of the path in its (existing) parent. */
static void override_assign(scn_ctx *c, const override_path *p,
                            const char *key, const char *value, int index)
{
    scn_pos at = {"--set", index + 1, 0};
    struct fy_node *node = fy_document_root(c->doc);
    for (int i = 0; i < p->n - 1 && node != NULL; i++) {
        node = override_descend(node, &p->step[i]);
        if (node == NULL)
            scn_error(c, at, key,
                      "'%.*s' does not exist in the scenario; --set can only "
                      "set a value inside an existing section or list",
                      (int)p->step[i].end, key);
    }
    if (node == NULL)
        return;
    const override_step *last = &p->step[p->n - 1];
    bool fits = last->index < 0 ? fy_node_is_mapping(node)
                                : fy_node_is_sequence(node) &&
                                      last->index < fy_node_sequence_item_count(node);
    if (!fits) {
        scn_error(c, at, key, "'%s' does not exist in the scenario", key);
        return;
    }
    bool done = last->index < 0
                    ? override_set_key(c, node, last, value, index)
                    : override_replace_item(c, node, last->index, value, index);
    if (!done)
        scn_oom(c);
}

static void apply_override(scn_ctx *c, const char *text, int index)
{
    scn_pos at = {"--set", index + 1, 0};
    const char *eq = text ? strchr(text, '=') : NULL;
    override_path path;
    char key[96];
    scn_clip(text ? text : "", key, sizeof key);
    if (eq != NULL && (size_t)(eq - text) < sizeof key)
        key[eq - text] = '\0';
    if (eq == NULL || !parse_override_key(text, (size_t)(eq - text), &path)) {
        scn_error(c, at, key,
                  "malformed override '%s'; expected key=value with a dotted "
                  "key such as plan.tranches[0].coupon=0.035",
                  text ? text : "(null)");
        return;
    }
    if (scn_utf8_invalid(eq + 1, strlen(eq + 1)) != strlen(eq + 1)) {
        scn_error(c, at, key, "the value is not valid UTF-8");
        return;
    }
    if (c->doc != NULL)
        override_assign(c, &path, key, eq + 1, index);
}

/* ---- defaults and cross checks -------------------------------------------- */

/* Defaults that depend on other keys, once everything is read. */
static void resolve_defaults(scn_ctx *c)
{
    ipabs_deal *d = c->deal;
    if (isnan(d->guarantor.loading))
        d->guarantor.loading = sqrt(d->model.correlation);
    if (!c->guarantor_given) {
        /* No guarantor section: no support at all. */
        free(d->guarantor.name);
        d->guarantor.name = scn_strdup(c, "none");
        d->guarantor.capacity = 0.0;
        d->guarantor.topup = false;
    }
    if (d->currency == NULL)
        d->currency = scn_strdup(c, "CNY");
    for (int i = 0; i < d->n_loans; i++)
        if (isnan(d->loans[i].cpr))
            d->loans[i].cpr = d->prepayment_cpr;
}

/* Add x to the compensated sum (*sum, *carry) (Neumaier): the rounding
 * of each addition is kept in *carry, so that the total of many equal
 * principals does not drift with their number (issue 13: 20,000 loans of
 * CNY 8,964,877.18 summed one by one came out 0.09 yuan short, and a tape
 * whose tranches matched it to the fen was refused). */
static void add_compensated(double *sum, double *carry, double x)
{
    double t = *sum + x;
    *carry += fabs(*sum) >= fabs(x) ? (*sum - t) + x : (x - t) + *sum;
    *sum = t;
}

/* Tranche balances against the pool; only when both are known cleanly, so
 * that one typo does not cause a second, derived error.  Beyond the 0.01
 * the user is told, the slack holds what doubles cannot tell apart: each
 * amount read rounds by half a unit in its last place (0.06 yuan at 1e15)
 * and each compensated total by at most twice that, so 1.5 DBL_EPSILON of
 * the two totals; 2 DBL_EPSILON is used. */
static void check_tranches_against_pool(scn_ctx *c)
{
    const ipabs_deal *d = c->deal;
    if (!c->tape_ok || !c->tranches_ok || d->n_tranches == 0)
        return;
    double pool = 0.0, pool_carry = 0.0, notes = 0.0, notes_carry = 0.0;
    for (int i = 0; i < d->n_loans; i++)
        add_compensated(&pool, &pool_carry, d->loans[i].principal);
    for (int k = 0; k < d->n_tranches; k++)
        add_compensated(&notes, &notes_carry, d->tranches[k].balance);
    pool += pool_carry;
    notes += notes_carry;
    double slack = 0.01 + 2.0 * DBL_EPSILON * (pool + notes);
    if (d->overcollateralised && notes > pool + slack)
        scn_error(c, c->tranches_key_pos, "plan.tranches",
                  "tranche balances sum to %.2f, more than the pool of %.2f "
                  "(sum of principals in %s)",
                  notes, pool, c->tape_path);
    else if (!d->overcollateralised && fabs(notes - pool) > slack)
        scn_error(c, c->tranches_key_pos, "plan.tranches",
                  "tranche balances sum to %.2f but the pool (sum of "
                  "principals in %s) is %.2f; they must be equal within 0.01 "
                  "(difference %.2f), or set plan.overcollateralised: true",
                  notes, c->tape_path, pool, notes - pool);
}

char *scn_join_path(scn_ctx *c, const char *given)
{
    const char *tape = given;
    while (tape[0] == '.' && tape[1] == '/')
        tape += 2;
    const char *slash = strrchr(c->yaml_path, '/');
    if (tape[0] == '/' || slash == NULL)
        return scn_strdup(c, tape);
    size_t dir = (size_t)(slash - c->yaml_path) + 1;
    char *path = malloc(dir + strlen(tape) + 1);
    if (path == NULL) {
        scn_oom(c);
        return NULL;
    }
    memcpy(path, c->yaml_path, dir);
    strcpy(path + dir, tape);
    return path;
}

/* ---- collection and payment periods ---------------------------------------- */

int scn_pay_every(const scn_ctx *c)
{
    int cf = c->loan_frequency, pf = c->deal->frequency;
    return cf > pf && pf > 0 && cf % pf == 0 ? cf / pf : 1;
}

/* Scheduled targets by payment period, spread over the collection grid:
 * each collection period carries its payment period's target (only the
 * payment dates read it). */
static void spread_targets(scn_ctx *c, ipabs_tranche *tr, int m, int final)
{
    double *x = calloc((size_t)final * (size_t)m + 1, sizeof *x);
    if (x == NULL) {
        scn_oom(c);
        return;
    }
    x[0] = tr->target[0];
    for (int t = 1; t <= final * m; t++)
        x[t] = tr->target[(t + m - 1) / m];
    free(tr->target);
    tr->target = x;
}

/* loans.frequency finer than deal.frequency: the deal's periods become the
 * collection periods, m to a payment period.  What the scenario counts in
 * payment periods (deal.legal_final, the classes' legal finals, expected
 * maturities, coupon steps and targets) is converted here, once; the
 * loans' terms, lags and schedules already count collection periods
 * (docs/scenario-format.md, "Collection and payment periods"). */
static void scn_collection_grid(scn_ctx *c)
{
    ipabs_deal *d = c->deal;
    int cf = c->loan_frequency, pf = d->frequency;
    if (cf != 0 && (cf < pf || cf % pf != 0)) {
        scn_error(c, c->loan_frequency_pos, "loans.frequency",
                  "%d collections a year is less often than deal.frequency's %d "
                  "payments a year; loans must pay as often as the plan or more "
                  "often, a whole number of times per payment period (monthly "
                  "loans under a quarterly plan)", cf, pf);
        return;
    }
    int m = scn_pay_every(c);
    if (d->transfer_lag >= m) {
        scn_error(c, c->transfer_lag_pos, "loans.transfer_lag",
                  "must be less than the %d collection period%s of a payment "
                  "period (got %d): collections wait at most for the next "
                  "payment date", m, m == 1 ? "" : "s", d->transfer_lag);
        return;
    }
    d->payment_frequency = pf;
    d->pay_every = m;
    if (m == 1)
        return;
    int final = d->legal_final;
    d->frequency = cf;
    d->legal_final = final * m;
    for (int k = 0; k < d->n_tranches; k++) {
        ipabs_tranche *tr = &d->tranches[k];
        tr->legal_final *= m;
        tr->expected_maturity *= m;
        for (int j = 0; j < tr->n_coupon_steps; j++)
            tr->coupon_steps[j].period = (tr->coupon_steps[j].period - 1) * m + 1;
        /* A put is settled after its payment date's payments. */
        for (int j = 0; j < tr->n_puts; j++)
            tr->puts[j].period *= m;
        if (tr->target != NULL)
            spread_targets(c, tr, m, final);
    }
    for (int j = 0; j < d->n_call_periods; j++)
        d->call_periods[j] *= m;
    d->call_exercise *= m;
}

/* ---- entry point ---------------------------------------------------------- */

static void read_scenario(scn_ctx *c, const char *const *overrides,
                          int n_overrides)
{
    char *text = NULL;
    load_document(c, &text);
    for (int i = 0; i < n_overrides; i++)
        apply_override(c, overrides[i], i);
    c->deal->guarantor.loading = NAN; /* = not given */
    if (c->doc != NULL)
        scn_read_document(c);
    if (c->tape_given != NULL &&
        (c->tape_path = scn_join_path(c, c->tape_given)) != NULL)
        scn_read_tape(c);
    scn_read_calendar(c);
    scn_read_schedule(c);
    scn_collection_grid(c);
    resolve_defaults(c);
    check_tranches_against_pool(c);
    fy_document_destroy(c->doc);
    c->doc = NULL;
    fy_diag_destroy(c->diag);
    c->diag = NULL;
    free(text);
}

static ipabs_status finish(scn_ctx *c, size_t first, ipabs_deal **out)
{
    ipabs_errors *errors = c->errors;
    if (ipabs_errors_total(errors) == first && !c->out_of_memory) {
        ipabs_error err;
        ipabs_status status = ipabs_deal_finalize(c->deal, &err);
        if (status == IPABS_OK) {
            *out = c->deal;
            return IPABS_OK;
        }
        ipabs_errors_add(errors, status, err.file, err.line, err.column,
                         err.field, "%s", err.message);
    }
    ipabs_deal_free(c->deal);
    if (errors->count > first)
        return errors->items[first].code;
    return ipabs_errors_total(errors) > first ? IPABS_EINPUT : IPABS_ENOMEM;
}

ipabs_status ipabs_scenario_load(const char *yaml_path,
                                 const char *const *overrides, int n_overrides,
                                 ipabs_deal **out, ipabs_errors *errors)
{
    if (out == NULL || errors == NULL)
        return IPABS_EINTERNAL;
    *out = NULL;
    size_t first = ipabs_errors_total(errors);
    scn_ctx c = {.yaml_path = yaml_path, .errors = errors,
                 .model_lists_ok = true, .tranches_ok = true};
    if (yaml_path == NULL) {
        ipabs_errors_add(errors, IPABS_EINPUT, NULL, 0, 0, NULL,
                         "no scenario file given");
        return IPABS_EINPUT;
    }
    c.deal = ipabs_deal_alloc();
    if (c.deal == NULL || (c.deal->source_file = scn_strdup(&c, yaml_path)) == NULL) {
        if (c.deal == NULL)
            scn_oom(&c);
        ipabs_deal_free(c.deal);
        return IPABS_ENOMEM;
    }
    read_scenario(&c, overrides, overrides ? n_overrides : 0);
    free(c.override_nodes);
    free(c.tape_given);
    free(c.calendar_given);
    free(c.schedule_given);
    c.deal->tape_file = c.tape_path; /* the deal owns it now (NULL if none) */
    return finish(&c, first, out);
}
