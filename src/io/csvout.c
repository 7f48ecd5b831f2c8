/*
 * csvout.c — atomic CSV output (temporary file + rename) through libcsv.
 */
#include "ipabs/csvout.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ipabs_status ipabs_mkdir_p(const char *dir, ipabs_error *err)
{
    char buf[1024];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return ipabs_error_set(err, IPABS_EIO, dir, 0, 0, NULL,
                               "output directory name is empty or too long");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char keep = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ipabs_error_set(err, IPABS_EIO, buf, 0, 0, NULL,
                                   "cannot create directory: %s", strerror(errno));
        buf[i] = keep;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ipabs_error_set(err, IPABS_EIO, dir, 0, 0, NULL,
                               "the output path exists and is not a directory");
    return IPABS_OK;
}

ipabs_status ipabs_csv_open(ipabs_csv_out *w, const char *dir,
                            const char *name, bool bom, ipabs_error *err)
{
    memset(w, 0, sizeof *w);
    int n = snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof w->path)
        return ipabs_error_set(err, IPABS_EIO, dir, 0, 0, NULL, "path too long");
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", w->path, (long)getpid());
    w->fp = fopen(w->tmp, "w");
    if (w->fp == NULL)
        return ipabs_error_set(err, IPABS_EIO, w->tmp, 0, 0, NULL,
                               "cannot write: %s", strerror(errno));
    if (bom && fputs("\xEF\xBB\xBF", w->fp) == EOF)
        w->failed = 1;
    return IPABS_OK;
}

static void separator(ipabs_csv_out *w)
{
    if (w->col++ > 0 && fputc(',', w->fp) == EOF)
        w->failed = 1;
}

void ipabs_csv_text(ipabs_csv_out *w, const char *text)
{
    separator(w);
    size_t n = strlen(text);
    bool quote = n > 0 && (strpbrk(text, ",\"\r\n") != NULL || text[0] == ' ' ||
                           text[n - 1] == ' ');
    int rc = quote ? csv_fwrite(w->fp, text, n) : (fputs(text, w->fp) == EOF ? -1 : 0);
    if (rc != 0)
        w->failed = 1;
}

void ipabs_csv_num(ipabs_csv_out *w, double value, int decimals)
{
    separator(w);
    if (isnan(value))
        return;
    int rc = decimals >= 0 ? fprintf(w->fp, "%.*f", decimals, value)
                           : fprintf(w->fp, "%.17g", value);
    if (rc < 0)
        w->failed = 1;
}

void ipabs_csv_int(ipabs_csv_out *w, long long value)
{
    separator(w);
    if (fprintf(w->fp, "%lld", value) < 0)
        w->failed = 1;
}

void ipabs_csv_empty(ipabs_csv_out *w)
{
    separator(w);
}

void ipabs_csv_header(ipabs_csv_out *w, const char *const *names)
{
    for (; *names != NULL; names++)
        ipabs_csv_text(w, *names);
    ipabs_csv_end_row(w);
}

void ipabs_csv_end_row(ipabs_csv_out *w)
{
    if (fputc('\n', w->fp) == EOF)
        w->failed = 1;
    w->col = 0;
}

ipabs_status ipabs_csv_commit(ipabs_csv_out *w, ipabs_error *err)
{
    if (w->fp == NULL)
        return ipabs_error_set(err, IPABS_EIO, w->path, 0, 0, NULL, "not open");
    int bad = w->failed || fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0;
    int saved = errno;
    bad |= fclose(w->fp) != 0;
    w->fp = NULL;
    if (!bad && rename(w->tmp, w->path) == 0)
        return IPABS_OK;
    if (!bad)
        saved = errno;
    remove(w->tmp);
    return ipabs_error_set(err, IPABS_EIO, w->path, 0, 0, NULL,
                           "cannot write: %s", strerror(saved));
}

void ipabs_csv_abort(ipabs_csv_out *w)
{
    if (w->fp == NULL)
        return;
    fclose(w->fp);
    w->fp = NULL;
    remove(w->tmp);
}
