/*
 * ipabs/file.h — opening an input file safely: only a regular file is
 * read, and only up to a stated size, so that a FIFO, a device such as
 * /dev/zero or /dev/urandom, or a runaway file cannot block ipabs or
 * exhaust memory (docs/scenario-format.md, "Limits").
 */
#ifndef IPABS_FILE_H
#define IPABS_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Size limits of the files ipabs reads. */
#define IPABS_SCENARIO_MAX_BYTES (4LL << 20)  /* the YAML scenario: 4 MiB */
#define IPABS_TAPE_MAX_BYTES (256LL << 20)    /* the loan tape: 256 MiB */
#define IPABS_RESULT_MAX_BYTES (256LL << 20)  /* a result CSV read back */

/* Open PATH for reading ("rb") if it is a regular file of at most
 * max_bytes.  The open itself never blocks (O_NONBLOCK, cleared once the
 * file is known to be regular).  On failure returns NULL and writes the
 * reason into why (cap bytes): strerror of the failure, "not a regular
 * file (a FIFO)" and the like, or "larger than the limit of N MiB". */
FILE *ipabs_file_open_regular(const char *path, long long max_bytes, char *why,
                              size_t cap);

#endif
