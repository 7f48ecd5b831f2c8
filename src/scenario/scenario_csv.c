/*
 * scenario_csv.c — a small CSV reader with positions, for the input files a
 * scenario names besides the tape (deal.calendar, loans.schedule).
 *
 * The file is fed to libcsv one physical line at a time, so that every
 * field knows the line it starts on; a byte-order mark is skipped; blank
 * lines are ignored.  The header is matched against the caller's column
 * names; each later row goes to the caller's callback with its cells in
 * the caller's column order.  Errors name the file, the line and the
 * field's 1-based number, like the tape's.
 */
#include "scenario_internal.h"

#include "ipabs/file.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_reader {
    scn_ctx *c;
    const char *path;
    const char *const *names; /* the expected columns */
    int n_names;
    int *field_of;            /* column -> field of the header */
    const scn_csv_cell **by_column;
    bool header_seen, header_ok;
    scn_csv_row_fn row;
    void *user;
    int line;            /* physical line being fed */
    int row_line;        /* line the current row starts on */
    bool in_row;
    bool stopped;
    scn_csv_cell *cells;
    int n_cells, cap_cells;
} csv_reader;

static int newlines(const char *s, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static void on_field(void *data, size_t len, void *arg)
{
    csv_reader *r = arg;
    if (r->stopped)
        return;
    if (r->n_cells == r->cap_cells) {
        int cap = r->cap_cells ? 2 * r->cap_cells : 8;
        scn_csv_cell *bigger = realloc(r->cells, (size_t)cap * sizeof *bigger);
        if (bigger == NULL) {
            scn_oom(r->c);
            r->stopped = true;
            return;
        }
        r->cells = bigger;
        r->cap_cells = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        scn_oom(r->c);
        r->stopped = true;
        return;
    }
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    int field = r->n_cells + 1;
    r->cells[r->n_cells++] =
        (scn_csv_cell){copy, len, r->line - newlines(copy, len), field};
}

static void clear_cells(csv_reader *r)
{
    for (int f = 0; f < r->n_cells; f++)
        free(r->cells[f].text);
    r->n_cells = 0;
}

static bool match_header(csv_reader *r);

/* A data row: as many fields as the header, handed over by column. */
static void take_row(csv_reader *r)
{
    if (!r->header_seen) {
        r->header_seen = true;
        r->header_ok = match_header(r);
        return;
    }
    if (!r->header_ok)
        return;
    if (r->n_cells != r->n_names) {
        scn_error(r->c, (scn_pos){r->path, r->row_line, 0}, NULL,
                  "expected %d fields as in the header, got %d; the row is "
                  "skipped", r->n_names, r->n_cells);
        return;
    }
    for (int k = 0; k < r->n_names; k++)
        r->by_column[k] = &r->cells[r->field_of[k]];
    r->row(r->user, r->by_column, r->row_line);
}

static void on_row(int terminator, void *arg)
{
    csv_reader *r = arg;
    (void)terminator;
    r->in_row = false;
    if (!r->stopped && r->n_cells > 0 &&
        !(r->n_cells == 1 && r->cells[0].len == 0))
        take_row(r);
    clear_cells(r);
}

static void parse_failure(csv_reader *r, struct csv_parser *p, int line,
                          const char *what)
{
    r->stopped = true;
    if (csv_error(p) != CSV_EPARSE)
        scn_oom(r->c);
    else
        scn_error(r->c, (scn_pos){r->path, line, r->n_cells + 1}, NULL,
                  "%s; the rest of the file is not read", what);
}

static size_t feed_line(csv_reader *r, struct csv_parser *p, const char *buf,
                        size_t len, size_t off)
{
    const char *nl = memchr(buf + off, '\n', len - off);
    size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
    if (!r->in_row) {
        r->in_row = true;
        r->row_line = r->line;
    }
    if (csv_parse(p, buf + off, n, on_field, on_row, r) != n && !r->stopped)
        parse_failure(r, p, r->line,
                      "malformed field: a field with a quote in it must be "
                      "quoted as a whole, and each quote inside written twice");
    if (nl != NULL)
        r->line++;
    return off + n;
}

static void parse(csv_reader *r, const char *buf, size_t len)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        scn_oom(r->c);
        r->stopped = true;
        return;
    }
    size_t off = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (off < len && !r->stopped)
        off = feed_line(r, &p, buf, len, off);
    if (!r->stopped && csv_fini(&p, on_field, on_row, r) != 0)
        parse_failure(r, &p, r->row_line,
                      "a quoted field is not closed before the end of the file");
    csv_free(&p);
}

static void describe_header(const csv_reader *r, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < r->n_names && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", k ? "," : "", r->names[k]);
}

bool scn_csv_read(scn_ctx *c, const char *path, const char *key,
                  scn_pos named_at, const char *const *names, int n_names,
                  scn_csv_row_fn row, void *user)
{
    char *buf = NULL;
    size_t len = 0;
    char why[160];
    int failure = scn_read_file(path, IPABS_TAPE_MAX_BYTES, &buf, &len, why, sizeof why);
    if (failure == ENOMEM) {
        scn_oom(c);
        return false;
    }
    if (failure != 0) {
        ipabs_errors_add(c->errors, IPABS_EIO, path, 0, 0, key,
                         "cannot read the file: %s (named by %s at %s:%d)",
                         why, key, named_at.file, named_at.line);
        return false;
    }
    size_t bad = scn_utf8_invalid(buf, len);
    if (bad < len) {
        int line = 1 + newlines(buf, bad);
        scn_error(c, (scn_pos){path, line, 0}, NULL,
                  "the file is not valid UTF-8 (byte %zu)", bad + 1);
        free(buf);
        return false;
    }
    int field_of[SCN_CSV_MAX_COLUMNS];
    const scn_csv_cell *by_column[SCN_CSV_MAX_COLUMNS];
    csv_reader r = {.c = c, .path = path, .names = names, .n_names = n_names,
                    .field_of = field_of, .by_column = by_column, .row = row,
                    .user = user, .line = 1};
    parse(&r, buf, len);
    if (!r.stopped && !r.header_seen) {
        char header[256];
        describe_header(&r, header, sizeof header);
        scn_error(c, (scn_pos){path, 1, 0}, NULL,
                  "the file is empty; expected the header %s", header);
    }
    clear_cells(&r);
    free(r.cells);
    free(buf);
    return !r.stopped && r.header_ok;
}

/* Match the header row against the expected column names. */
static bool match_header(csv_reader *r)
{
    scn_ctx *c = r->c;
    const char *path = r->path, *const *names = r->names;
    const scn_csv_cell *cells = r->cells;
    int n = r->n_cells, line = r->row_line, n_names = r->n_names;
    int *field_of = r->field_of;
    bool ok = true;
    for (int k = 0; k < n_names; k++)
        field_of[k] = -1;
    for (int f = 0; f < n; f++) {
        scn_suggest s;
        int k = 0;
        scn_suggest_init(&s, cells[f].text);
        while (k < n_names && strcmp(cells[f].text, names[k]) != 0)
            scn_suggest_offer(&s, names[k++]);
        char text[80], hint[96];
        scn_clip(cells[f].text, text, sizeof text);
        if (k == n_names) {
            scn_hint_text(scn_suggest_best(&s), hint, sizeof hint);
            scn_error(c, (scn_pos){path, line, f + 1}, NULL,
                      "unknown column '%s'%s", text, hint);
            ok = false;
        } else if (field_of[k] >= 0) {
            scn_error(c, (scn_pos){path, line, f + 1}, NULL,
                      "column '%s' appears twice (first as field %d)", text,
                      field_of[k] + 1);
            ok = false;
        } else {
            field_of[k] = f;
        }
    }
    for (int k = 0; k < n_names; k++)
        if (field_of[k] < 0) {
            scn_error(c, (scn_pos){path, line, 0}, NULL,
                      "missing column '%s'", names[k]);
            ok = false;
        }
    return ok;
}
