/*
 * plot.c — result CSVs into SVG charts with PLplot.
 *
 * PLplot keeps its own state per stream; each chart creates a stream,
 * draws, and ends it, so nothing is shared between charts.
 */
#include "ipabs/plot.h"

#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipabs/csvin.h"

typedef struct series {
    int n;
    double *x, *y;
} series;

typedef struct chart {
    const char *title, *xlabel, *ylabel;
    bool bars;
    double bar_width;        /* in x units; bars are centred on x */
    const ipabs_table *labels; /* category labels (column label_col) or NULL */
    int label_col;
} chart;

/* ---- drawing -------------------------------------------------------------- */

/* Text from a CSV as PLplot may draw it: well-formed UTF-8 kept, any other
 * byte and control characters shown as '?', and '#' (PLplot's escape
 * character) doubled.  PLplot aborts the drawing of malformed UTF-8. */
static const char *plot_text(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && o + 5 < cap;) {
        size_t len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3
                   : (*p & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len > 0 && (len > 1 || (*p >= 0x20 && *p != 0x7F)) &&
                  (len < 2 || *p >= 0xC2) && (len < 4 || *p <= 0xF4);
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[k] & 0xC0) == 0x80;
        if (!ok) {
            out[o++] = '?';
            p++;
            continue;
        }
        if (*p == '#')
            out[o++] = '#';
        memcpy(out + o, p, len);
        o += len;
        p += len;
    }
    out[o] = '\0';
    return out;
}

/* Values beyond this magnitude are not plotted (no result ipabs writes
 * comes near it; PLplot's axis arithmetic overflows past it). */
#define PLOT_MAX_ABS 1e100

/* An axis at least a thousandth of its magnitude wide (and at least 1e-9):
 * a narrower one is below the rounding step of its labels, and PLplot then
 * loops forever drawing ticks. */
static void widen(double *lo, double *hi)
{
    double mag = fmax(fabs(*lo), fabs(*hi));
    if (*hi - *lo >= fmax(1e-3 * mag, 1e-9))
        return;
    double mid = 0.5 * (*lo + *hi), half = fmax(0.05 * mag, 0.5);
    *lo = mid - half;
    *hi = mid + half;
}

static void range(const series *s, double *lo, double *hi, bool from_zero)
{
    *lo = from_zero ? 0.0 : INFINITY;
    *hi = from_zero ? 0.0 : -INFINITY;
    for (int i = 0; i < s->n; i++) {
        *lo = fmin(*lo, s->y[i]);
        *hi = fmax(*hi, s->y[i]);
    }
    widen(lo, hi);
    double pad = 0.05 * (*hi - *lo);
    *hi += pad;
    if (!from_zero)
        *lo -= pad;
}

static void draw_bars(const series *s, double width)
{
    for (int i = 0; i < s->n; i++) {
        PLFLT bx[4] = {s->x[i] - width / 2, s->x[i] - width / 2, s->x[i] + width / 2,
                       s->x[i] + width / 2};
        PLFLT by[4] = {0.0, s->y[i], s->y[i], 0.0};
        plcol0(2);
        plfill(4, bx, by);
        plcol0(1);
        plline(4, bx, by);
    }
}

static void category_labels(const chart *c, const series *s)
{
    plcol0(1);
    plschr(0.0, 0.55);
    char text[256];
    for (int i = 0; i < s->n; i++)
        plptex(s->x[i], 0.0, 1.0, 1.0, 1.02,
               plot_text(c->labels->cell[i + 1][c->label_col], text, sizeof text));
    plschr(0.0, 1.0);
}

static void set_colours(void)
{
    static const int rgb[6][3] = {{70, 120, 180}, {220, 110, 40}, {60, 150, 70},
                                  {190, 50, 60}, {130, 90, 170}, {120, 120, 120}};
    plscolbg(255, 255, 255);
    plscol0(1, 0, 0, 0);
    for (int i = 0; i < 6; i++)
        plscol0(2 + i, rgb[i][0], rgb[i][1], rgb[i][2]);
}

/* Several lines in one frame, each labelled at its right end. */
static void draw_lines(const series *s, int n, const char *const *labels)
{
    for (int k = 0; k < n; k++) {
        plcol0(2 + k % 6);
        plline(s[k].n, s[k].x, s[k].y);
        plpoin(s[k].n, s[k].x, s[k].y, 17);
        if (labels != NULL && labels[k] != NULL && s[k].n > 0) {
            plschr(0.0, 0.6);
            char text[256];
            plptex(s[k].x[s[k].n - 1], s[k].y[s[k].n - 1], 1.0, 0.0, 1.05,
                   plot_text(labels[k], text, sizeof text));
            plschr(0.0, 1.0);
        }
    }
}

static void frame_range(const series *s, int n, bool bars, double *xlo, double *xhi,
                        double *ylo, double *yhi)
{
    *xlo = INFINITY;
    *xhi = -INFINITY;
    *ylo = INFINITY;
    *yhi = -INFINITY;
    for (int k = 0; k < n; k++) {
        double lo, hi;
        range(&s[k], &lo, &hi, bars);
        *ylo = fmin(*ylo, lo);
        *yhi = fmax(*yhi, hi);
        for (int i = 0; i < s[k].n; i++) {
            *xlo = fmin(*xlo, s[k].x[i]);
            *xhi = fmax(*xhi, s[k].x[i]);
        }
    }
}

static ipabs_status render_many(const char *path, const chart *c, const series *s, int n,
                                const char *const *labels, ipabs_error *err)
{
    char tmp[1600];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp)
        return ipabs_error_set(err, IPABS_EIO, path, 0, 0, NULL, "path too long");
    double xlo, xhi, ylo, yhi;
    frame_range(s, n, c->bars, &xlo, &xhi, &ylo, &yhi);
    double margin = c->bars ? c->bar_width : 0.0;
    xlo -= margin;
    xhi += margin;
    widen(&xlo, &xhi);
    if (!c->bars) {
        margin = 0.02 * (xhi - xlo);
        xlo -= margin;
        xhi += margin;
    }
    /* PLplot is handed an open file: when it opens one itself and fails, it
     * ends the process.  Its driver closes the file at plend1. */
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return ipabs_error_set(err, IPABS_EIO, path, 0, 0, NULL, "cannot write the chart: %s",
                               strerror(errno));
    PLINT stream;
    plmkstrm(&stream);
    plsdev("svg");
    plsfile(f);
    set_colours();
    plinit();
    plcol0(1);
    plenv(xlo, xhi, ylo, yhi, 0, c->labels ? -1 : 0);
    if (c->labels) {
        plbox("bc", 0.0, 0, "bcnstv", 0.0, 0);
        category_labels(c, s);
    }
    char xlabel[256], ylabel[256], title[256];
    pllab(plot_text(c->xlabel, xlabel, sizeof xlabel), plot_text(c->ylabel, ylabel, sizeof ylabel),
          plot_text(c->title, title, sizeof title));
    if (c->bars)
        draw_bars(s, c->bar_width);
    else
        draw_lines(s, n, labels);
    plend1();
    if (access(tmp, F_OK) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return ipabs_error_set(err, IPABS_EIO, path, 0, 0, NULL, "cannot write the chart");
    }
    return IPABS_OK;
}

static ipabs_status render(const char *path, const chart *c, const series *s,
                           ipabs_error *err)
{
    return render_many(path, c, s, 1, NULL, err);
}

/* ---- data ----------------------------------------------------------------- */

static void series_free(series *s)
{
    free(s->x);
    free(s->y);
    s->x = s->y = NULL;
}

static bool column_series(const ipabs_table *t, const char *xname, const char *yname,
                          int first_row, series *s)
{
    int xc = xname ? ipabs_table_col(t, xname) : -1, yc = ipabs_table_col(t, yname);
    if ((xname && xc < 0) || yc < 0 || t->n_rows <= first_row)
        return false;
    s->n = 0;
    s->x = calloc((size_t)t->n_rows, sizeof(double));
    s->y = calloc((size_t)t->n_rows, sizeof(double));
    if (!s->x || !s->y) {
        series_free(s);
        return false;
    }
    for (int r = first_row; r < t->n_rows; r++) {
        double x = r - first_row + 1, y;
        if ((xname && !ipabs_table_num(t, r, xc, &x)) || !ipabs_table_num(t, r, yc, &y) ||
            fabs(x) > PLOT_MAX_ABS || fabs(y) > PLOT_MAX_ABS)
            continue;
        s->x[s->n] = x;
        s->y[s->n++] = y;
    }
    if (s->n == 0)
        series_free(s); /* no point: nothing to draw, nothing kept */
    return s->n > 0;
}

typedef struct job {
    const char *dir;
    int written;
    ipabs_error *err;
} job;

static ipabs_status draw(job *j, const char *name, const chart *c, series *s)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", j->dir, name);
    ipabs_status st = render(path, c, s, j->err);
    j->written += st == IPABS_OK;
    series_free(s);
    return st;
}

/* Returns IPABS_OK also when the CSV is absent (nothing to draw). */
static ipabs_status with_table(job *j, const char *csv,
                               ipabs_status (*fn)(job *, const ipabs_table *))
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", j->dir, csv);
    if (access(path, F_OK) != 0)
        return IPABS_OK;
    ipabs_table t;
    ipabs_status s = ipabs_table_read(path, &t, j->err);
    if (s == IPABS_EIO) /* a result file the user gave that cannot be read */
        j->err->code = s = IPABS_EINPUT;
    if (s != IPABS_OK)
        return s;
    s = fn(j, &t);
    ipabs_table_free(&t);
    return s;
}

/* ---- the charts ----------------------------------------------------------- */

static ipabs_status loss_chart(job *j, const ipabs_table *t)
{
    series s = {0};
    double zero = NAN, width = 0.0, lo, hi;
    int p = ipabs_table_col(t, "probability");
    ipabs_table_num(t, 1, p, &zero);
    if (!column_series(t, "loss_to", "probability", 2, &s))
        return ipabs_error_set(j->err, IPABS_EINPUT, "loss_distribution.csv", 0, 0, NULL,
                               "not a loss distribution");
    if (ipabs_table_num(t, 2, ipabs_table_col(t, "loss_from"), &lo) &&
        ipabs_table_num(t, 2, ipabs_table_col(t, "loss_to"), &hi))
        width = hi - lo;
    for (int i = 0; i < s.n; i++)
        s.x[i] -= width / 2; /* centre of the bucket */
    char title[160];
    snprintf(title, sizeof title, "Pool static loss (P(loss = 0) = %.4f)", zero);
    chart c = {title, "pool static loss (yuan)", "probability (fraction)", true, width, NULL, 0};
    return draw(j, "loss_distribution.svg", &c, &s);
}

static ipabs_status count_chart(job *j, const ipabs_table *t)
{
    series s = {0};
    if (!column_series(t, "defaults", "probability", 1, &s))
        return ipabs_error_set(j->err, IPABS_EINPUT, "default_count.csv", 0, 0, NULL,
                               "not a default-count distribution");
    chart c = {"Number of defaults", "defaults (count)", "probability (fraction)", true, 0.8,
               NULL, 0};
    return draw(j, "default_count.svg", &c, &s);
}

static ipabs_status cdr_chart(job *j, const ipabs_table *t)
{
    series s = {0};
    if (!column_series(t, "period", "expected_cumulative_default_ratio", 1, &s))
        return ipabs_error_set(j->err, IPABS_EINPUT, "cdr.csv", 0, 0, NULL,
                               "not a cumulative default ratio table");
    chart c = {"Expected cumulative default ratio", "payment period",
               "cumulative default ratio (fraction of the pool)", false, 0, NULL, 0};
    return draw(j, "cdr.svg", &c, &s);
}

/* The cash-flow coverage ratio by payment date: the no-default path and
 * the mean over paths, one line each. */
static ipabs_status coverage_chart(job *j, const ipabs_table *t)
{
    series s[2] = {{0}, {0}};
    bool ok = column_series(t, "period", "coverage_ratio_no_default", 1, &s[0]) &&
              column_series(t, "period", "expected_coverage_ratio", 1, &s[1]);
    ipabs_status st;
    if (!ok) {
        st = ipabs_error_set(j->err, IPABS_EINPUT, "coverage.csv", 0, 0, NULL,
                             "not a coverage ratio table");
    } else {
        static const char *const labels[2] = {"no default", "mean"};
        char path[1100];
        snprintf(path, sizeof path, "%s/coverage.svg", j->dir);
        chart c = {"Cash-flow coverage ratio (collections / senior due)", "payment period",
                   "coverage ratio (multiple)", false, 0, NULL, 0};
        st = render_many(path, &c, s, 2, labels, j->err);
        j->written += st == IPABS_OK;
    }
    series_free(&s[0]);
    series_free(&s[1]);
    return st;
}

/* Grid key columns come first; a measure column is followed by its
 * standard error "<name>_se". */
static int key_columns(const ipabs_table *t)
{
    for (int c = 0; c + 1 < t->row_len[0]; c++) {
        char se[300];
        snprintf(se, sizeof se, "%s_se", t->cell[0][c]);
        if (strcmp(t->cell[0][c + 1], se) == 0)
            return c;
    }
    return 1;
}

/* The other keys' values of a row, as a label ("model.x=0.2"). */
static void group_label(const ipabs_table *t, int row, int n_keys, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int c = 1; c < n_keys; c++) {
        size_t used = strlen(buf);
        snprintf(buf + used, cap - used, "%s%s=%s", c > 1 ? " " : "", t->cell[0][c],
                 t->cell[row][c]);
    }
}

#define MAX_GROUPS 64

typedef struct groups {
    int n;
    char label[MAX_GROUPS][256];
    const char *labels[MAX_GROUPS];
    series s[MAX_GROUPS];
} groups;

static int group_of(groups *g, const char *label)
{
    for (int k = 0; k < g->n; k++)
        if (strcmp(g->label[k], label) == 0)
            return k;
    if (g->n == MAX_GROUPS)
        return -1;
    snprintf(g->label[g->n], sizeof g->label[0], "%s", label);
    g->labels[g->n] = g->label[g->n];
    return g->n++;
}

static bool group_rows(const ipabs_table *t, int n_keys, int col, groups *g)
{
    char label[256];
    for (int r = 1; r < t->n_rows; r++) {
        double x, y;
        group_label(t, r, n_keys, label, sizeof label);
        int k = group_of(g, label);
        if (k < 0 || !ipabs_table_num(t, r, 0, &x) || !ipabs_table_num(t, r, col, &y) ||
            fabs(x) > PLOT_MAX_ABS || fabs(y) > PLOT_MAX_ABS)
            continue;
        series *s = &g->s[k];
        if (s->x == NULL && (!(s->x = calloc((size_t)t->n_rows, sizeof(double))) ||
                             !(s->y = calloc((size_t)t->n_rows, sizeof(double)))))
            return false;
        s->x[s->n] = x;
        s->y[s->n++] = y;
    }
    return true;
}

/* A measure name usable as part of a file name: letters, digits, '.',
 * '_' and '-', not starting with '.', at most 100 bytes.  A header such as
 * "../x" would otherwise write outside the result directory. */
static bool file_safe(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 100 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
            return false;
    return true;
}

static ipabs_status sweep_chart(job *j, const ipabs_table *t, int n_keys, int col)
{
    if (!file_safe(t->cell[0][col])) {
        char shown[64];
        snprintf(shown, sizeof shown, "%s", t->cell[0][col]);
        for (char *p = shown; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7F)
                *p = '?'; /* one line per error */
        return ipabs_error_set(j->err, IPABS_EINPUT, "sweep.csv", 1, col + 1, NULL,
                               "column name '%s' cannot name a chart file (letters, "
                               "digits, '.', '_' and '-', at most 100, not starting "
                               "with '.')", shown);
    }
    groups *g = calloc(1, sizeof *g);
    if (g == NULL || !group_rows(t, n_keys, col, g)) {
        if (g != NULL)
            for (int k = 0; k < g->n; k++)
                series_free(&g->s[k]);
        free(g);
        return ipabs_error_set(j->err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    const char *h = t->cell[0][col];
    char name[300], path[1500];
    snprintf(name, sizeof name, "sweep-%s.svg", h);
    snprintf(path, sizeof path, "%s/%s", j->dir, name);
    char xtitle[300], ytitle[300];
    ipabs_axis_title(t->cell[0][0], xtitle, sizeof xtitle);
    ipabs_axis_title(h, ytitle, sizeof ytitle);
    chart c = {h, xtitle, ytitle, false, 0, NULL, 0};
    ipabs_status st = render_many(path, &c, g->s, g->n, n_keys > 1 ? g->labels : NULL, j->err);
    j->written += st == IPABS_OK;
    for (int k = 0; k < g->n; k++)
        series_free(&g->s[k]);
    free(g);
    return st;
}

/* Each measure against the first grid key, one line per combination of
 * the other keys. */
static ipabs_status sweep_charts(job *j, const ipabs_table *t)
{
    int n_keys = key_columns(t);
    ipabs_status st = IPABS_OK;
    for (int col = n_keys; st == IPABS_OK && col + 1 < t->row_len[0]; col += 2)
        st = sweep_chart(j, t, n_keys, col);
    return st;
}

static ipabs_status breakeven_chart(job *j, const ipabs_table *t)
{
    series s = {0};
    if (!column_series(t, NULL, "bdr", 1, &s))
        return ipabs_error_set(j->err, IPABS_EINPUT, "breakeven.csv", 0, 0, NULL,
                               "not a breakeven table");
    int label = ipabs_table_col(t, "stress");
    chart c = {"Breakeven default rate by stress", "stress scenario",
               "breakeven default rate (fraction of the pool)", true, 0.7,
               label >= 0 ? t : NULL, label};
    return draw(j, "breakeven.svg", &c, &s);
}

ipabs_status ipabs_plot_dir(const char *dir, int *written, ipabs_error *err)
{
    job j = {dir, 0, err};
    ipabs_status s = with_table(&j, "loss_distribution.csv", loss_chart);
    if (s == IPABS_OK)
        s = with_table(&j, "default_count.csv", count_chart);
    if (s == IPABS_OK)
        s = with_table(&j, "cdr.csv", cdr_chart);
    if (s == IPABS_OK)
        s = with_table(&j, "coverage.csv", coverage_chart);
    if (s == IPABS_OK)
        s = with_table(&j, "sweep.csv", sweep_charts);
    if (s == IPABS_OK)
        s = with_table(&j, "breakeven.csv", breakeven_chart);
    *written = j.written;
    if (s == IPABS_OK && j.written == 0)
        s = ipabs_error_set(err, IPABS_EINPUT, dir, 0, 0, NULL,
                            "no result CSV to plot (run, sweep or rate output expected)");
    return s;
}
