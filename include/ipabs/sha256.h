/*
 * ipabs/sha256.h — SHA-256 (FIPS 180-4) of a file, recorded in run.csv so a
 * result can be traced to the exact scenario that produced it.
 */
#ifndef IPABS_SHA256_H
#define IPABS_SHA256_H

#include <stddef.h>

#include "ipabs/error.h"

/* Hex digest (65 bytes with the terminator) of len bytes. */
void ipabs_sha256_hex(const void *data, size_t len, char hex[65]);
/* Of a whole file.  IPABS_EIO if it cannot be read. */
ipabs_status ipabs_sha256_file(const char *path, char hex[65], ipabs_error *err);

#endif
