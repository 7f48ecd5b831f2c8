/*
 * error.c — filling, collecting and printing ipabs errors.
 */
#include "ipabs/error.h"

#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void copy_bounded(char *dst, size_t cap, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void error_vfill(ipabs_error *err, ipabs_status code, const char *file,
                        int line, int column, const char *field,
                        const char *fmt, va_list ap)
{
    err->code = code;
    copy_bounded(err->file, sizeof err->file, file);
    err->line = line;
    err->column = column;
    copy_bounded(err->field, sizeof err->field, field);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

ipabs_status ipabs_error_set(ipabs_error *err, ipabs_status code,
                             const char *file, int line, int column,
                             const char *field, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vfill(err, code, file, line, column, field, fmt, ap);
    va_end(ap);
    return code;
}

void ipabs_errors_add(ipabs_errors *list, ipabs_status code, const char *file,
                      int line, int column, const char *field,
                      const char *fmt, ...)
{
    if (list->count >= IPABS_ERRORS_MAX) {
        list->dropped++;
        return;
    }
    if (list->count == list->capacity) {
        size_t cap = list->capacity ? 2 * list->capacity : 8;
        ipabs_error *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) {
            if (list->count > 0)
                ipabs_error_set(&list->items[list->count - 1], IPABS_ENOMEM,
                                NULL, 0, 0, NULL,
                                "out of memory while collecting errors");
            return;
        }
        list->items = items;
        list->capacity = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    error_vfill(&list->items[list->count++], code, file, line, column, field,
                fmt, ap);
    va_end(ap);
}

void ipabs_errors_clear(ipabs_errors *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->capacity = 0;
    list->dropped = 0;
}

size_t ipabs_errors_total(const ipabs_errors *list)
{
    return list->count + list->dropped;
}

int ipabs_errors_full(const ipabs_errors *list)
{
    return list->count >= IPABS_ERRORS_MAX;
}

void ipabs_errors_print(FILE *out, const ipabs_errors *list)
{
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i].file[0] == '\0' && list->items[i].field[0] == '\0')
            fputs("ipabs: ", out); /* not about a file: a message of the program */
        ipabs_error_print(out, &list->items[i]);
    }
    if (list->dropped > 0)
        fprintf(out, "ipabs: %zu more errors not shown (the first %d are)\n",
                list->dropped, IPABS_ERRORS_MAX);
    if (list->count + list->dropped > 1)
        fprintf(out, "ipabs: %zu errors\n", list->count + list->dropped);
}

void ipabs_error_print(FILE *out, const ipabs_error *err)
{
    if (err->file[0] != '\0') {
        fputs(err->file, out);
        if (err->line > 0) {
            fprintf(out, ":%d", err->line);
            if (err->column > 0)
                fprintf(out, ":%d", err->column);
        }
        fputs(": ", out);
    }
    if (err->field[0] != '\0')
        fprintf(out, "%s: ", err->field);
    fprintf(out, "%s\n", err->message);
}

int ipabs_status_exit_code(ipabs_status code)
{
    switch (code) {
    case IPABS_OK:
        return 0;
    case IPABS_EINPUT:
        return 2;
    default:
        return 1;
    }
}

void ipabs_init(void)
{
    gsl_set_error_handler_off();
}
