/*
 * errors_util.h — finding one positioned error among a load's errors: the
 * scenario-reader tests assert file, line, column and message together.
 */
#ifndef IPABS_TEST_ERRORS_UTIL_H
#define IPABS_TEST_ERRORS_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipabs/error.h"

/* True if an error names a file ending in file_suffix, at line:column,
 * with text in its message; otherwise prints them all (for the failure). */
static inline bool has_error(const ipabs_errors *e, const char *file_suffix, int line,
                             int column, const char *text)
{
    for (size_t i = 0; i < e->count; i++) {
        const ipabs_error *x = &e->items[i];
        size_t n = strlen(x->file), m = strlen(file_suffix);
        if (n >= m && strcmp(x->file + n - m, file_suffix) == 0 && x->line == line &&
            x->column == column && strstr(x->message, text) != NULL)
            return true;
    }
    for (size_t i = 0; i < e->count; i++)
        fprintf(stderr, "  %s:%d:%d: %s\n", e->items[i].file, e->items[i].line,
                e->items[i].column, e->items[i].message);
    return false;
}

#endif
