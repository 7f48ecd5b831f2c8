/*
 * ipabs/export.h — IPABS_API marks the functions the shared library
 * exports.
 *
 * libipabs.so is built with hidden visibility by default, so only what is
 * marked here is part of its ABI: the embedding API (ipabs.h) and the
 * error functions it relies on (error.h).  Everything else in the public
 * headers is reachable only through the static library, which the CLI and
 * the tests link, because those headers describe the engine's internals
 * and change with them.
 */
#ifndef IPABS_EXPORT_H
#define IPABS_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define IPABS_API __attribute__((visibility("default")))
#else
#define IPABS_API
#endif

#endif
