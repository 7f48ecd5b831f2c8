/*
 * ipabs/error.h — error reporting shared by every module.
 *
 * Fallible functions return an ipabs_status and describe the failure in a
 * caller-owned ipabs_error (one failure) or ipabs_errors (a list, used by
 * the scenario reader so that every input error of a file is reported in
 * one run).  Messages read like a compiler's:
 *
 *     loans.csv:7:4: principal: must be > 0 (got -12.5)
 *
 * No global state: the caller owns every error object.
 */
#ifndef IPABS_ERROR_H
#define IPABS_ERROR_H

#include <stddef.h>
#include <stdio.h>

#include "ipabs/export.h"

typedef enum ipabs_status {
    IPABS_OK = 0,
    IPABS_EINPUT = 1,    /* the user's input is wrong: exit code 2 */
    IPABS_EIO = 2,       /* a file could not be read or written */
    IPABS_ENOMEM = 3,    /* allocation failed */
    IPABS_EINTERNAL = 4, /* a bug in ipabs (e.g. a broken conservation identity) */
    IPABS_EINTERRUPTED = 5 /* stopped by a signal; partial results written */
} ipabs_status;

typedef struct ipabs_error {
    ipabs_status code;
    char file[512];    /* empty when not about a file */
    int line;          /* 1-based; 0 when unknown */
    int column;        /* 1-based; 0 when unknown */
    char field[96];    /* scenario key or tape column; empty when none */
    char message[512]; /* what was expected and what was found */
} ipabs_error;

/* At most IPABS_ERRORS_MAX errors are kept; later ones are only counted
 * (dropped), so that a hostile file of a million bad rows costs neither
 * memory nor a screenful per row. */
#define IPABS_ERRORS_MAX 100

typedef struct ipabs_errors {
    ipabs_error *items;
    size_t count;    /* kept, at most IPABS_ERRORS_MAX */
    size_t capacity;
    size_t dropped;  /* errors past the cap, counted but not kept */
} ipabs_errors;

/* Fill *err (NULL is allowed and ignored).  Returns code, so that a
 * function can `return ipabs_error_set(...)`.  file/field may be NULL. */
ipabs_status ipabs_error_set(ipabs_error *err, ipabs_status code,
                             const char *file, int line, int column,
                             const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Append one error to the list; past IPABS_ERRORS_MAX it is only counted
 * in list->dropped.  On allocation failure the error is dropped and the
 * list's last entry is turned into an ENOMEM note. */
void ipabs_errors_add(ipabs_errors *list, ipabs_status code, const char *file,
                      int line, int column, const char *field,
                      const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Errors added so far, kept or dropped: what a stage compares before and
 * after to know whether it found a problem. */
size_t ipabs_errors_total(const ipabs_errors *list);

/* True when the list keeps no more errors (callers may skip the work of
 * composing a message, such as a "did you mean" search). */
int ipabs_errors_full(const ipabs_errors *list);

/* Every kept error, one per line, then "ipabs: N more errors not shown"
 * when some were dropped and "ipabs: N errors" when there are several. */
void ipabs_errors_print(FILE *out, const ipabs_errors *list);

/* Free the list's storage; the list is left empty and reusable. */
IPABS_API void ipabs_errors_clear(ipabs_errors *list);

/* "file:line:column: field: message" (parts that are unknown are left out). */
IPABS_API void ipabs_error_print(FILE *out, const ipabs_error *err);

/* Process exit code for a status: 0 ok, 2 input error, 1 anything else. */
IPABS_API int ipabs_status_exit_code(ipabs_status code);

/* Turn GSL's abort-on-error handler off.  Call once at start-up of any
 * program using libipabs; every GSL status is checked by the caller. */
IPABS_API void ipabs_init(void);

#endif
