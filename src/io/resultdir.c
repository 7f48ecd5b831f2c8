/*
 * resultdir.c — all-or-nothing result sets: a temporary directory beside
 * the target, renamed (or exchanged) into place when complete.
 *
 * Why exchange and move back rather than replace OUT: OUT may be a
 * directory the user keeps other files in (`-o .`); only the files of the
 * new set may replace their namesakes.
 */
#define _GNU_SOURCE /* renameat2 */
#include "ipabs/resultdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipabs/csvout.h"

/* Remove path and, if it is a directory, everything under it (symbolic
 * links are removed, never followed). */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *e;
        while (dir != NULL && (e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[2400];
            if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
                remove_tree(child);
        }
        if (dir != NULL)
            closedir(dir);
    }
    remove(path);
}

static void parent_of(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        snprintf(buf, cap, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

ipabs_status ipabs_result_dir_begin(ipabs_result_dir *d, const char *target,
                                    ipabs_error *err)
{
    size_t n = target ? strlen(target) : 0;
    while (n > 1 && target[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof d->target)
        return ipabs_error_set(err, IPABS_EIO, target, 0, 0, NULL,
                               "output directory name is empty or too long");
    memcpy(d->target, target, n);
    d->target[n] = '\0';
    const char *base = strrchr(d->target, '/');
    base = base ? base + 1 : d->target;
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(d->target, "/") == 0)
        return ipabs_error_set(err, IPABS_EIO, target, 0, 0, NULL,
                               "give the output directory by its name, not '.', '..' or '/'");
    struct stat sb;
    char resolved[PATH_MAX];
    /* A symbolic link to a directory: the set goes where it points (the
     * exchange would otherwise replace the link itself). */
    if (lstat(d->target, &sb) == 0 && S_ISLNK(sb.st_mode) &&
        realpath(d->target, resolved) != NULL && strlen(resolved) < sizeof d->target)
        memcpy(d->target, resolved, strlen(resolved) + 1);
    if (stat(d->target, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return ipabs_error_set(err, IPABS_EIO, d->target, 0, 0, NULL,
                               "the output path exists and is not a directory");
    char parent[1024];
    parent_of(d->target, parent, sizeof parent);
    ipabs_status s = ipabs_mkdir_p(parent, err);
    if (s != IPABS_OK)
        return s;
    snprintf(d->tmp, sizeof d->tmp, "%s.tmp-XXXXXX", d->target);
    if (mkdtemp(d->tmp) == NULL)
        return ipabs_error_set(err, IPABS_EIO, d->target, 0, 0, NULL,
                               "cannot create the output directory: %s", strerror(errno));
    /* mkdtemp makes it 0700; a result directory gets the usual mode. */
    mode_t mask = umask(0);
    umask(mask);
    chmod(d->tmp, 0777 & ~mask);
    return IPABS_OK;
}

static bool is_empty_dir(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    bool empty = true;
    while (dir != NULL && empty && (e = readdir(dir)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    if (dir != NULL)
        closedir(dir);
    return empty;
}

/* The names in a directory (not "." and ".."), malloc'ed, for work that
 * renames entries out of it: readdir may skip entries while the directory
 * changes under it. */
static char **list_dir(const char *path, size_t *n)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    while (dir != NULL && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            char **bigger = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
            if (bigger == NULL)
                break;
            names = bigger;
        }
        if ((names[*n] = strdup(e->d_name)) != NULL)
            (*n)++;
    }
    if (dir != NULL)
        closedir(dir);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* After the exchange d->tmp holds the previous OUT: move back what the new
 * set does not replace, then remove the rest. */
static void restore_others(ipabs_result_dir *d)
{
    size_t n;
    char **names = list_dir(d->tmp, &n);
    for (size_t i = 0; i < n; i++) {
        char from[2400], to[2400];
        struct stat sb;
        snprintf(from, sizeof from, "%s/%s", d->tmp, names[i]);
        snprintf(to, sizeof to, "%s/%s", d->target, names[i]);
        if (lstat(to, &sb) != 0)
            rename(from, to);
    }
    free_list(names, n);
    remove_tree(d->tmp);
}

/* Where RENAME_EXCHANGE is not supported (some overlay and network file
 * systems): move each new file into OUT, each rename atomic; the set is
 * not, and docs/cli.md says so. */
static ipabs_status move_each(ipabs_result_dir *d, ipabs_error *err)
{
    size_t n;
    char **names = list_dir(d->tmp, &n);
    int failure = 0;
    for (size_t i = 0; i < n && failure == 0; i++) {
        char from[2400], to[2400];
        snprintf(from, sizeof from, "%s/%s", d->tmp, names[i]);
        snprintf(to, sizeof to, "%s/%s", d->target, names[i]);
        if (rename(from, to) != 0)
            failure = errno;
    }
    free_list(names, n);
    remove_tree(d->tmp);
    if (failure != 0)
        return ipabs_error_set(err, IPABS_EIO, d->target, 0, 0, NULL,
                               "cannot move the results into place: %s", strerror(failure));
    return IPABS_OK;
}

ipabs_status ipabs_result_dir_commit(ipabs_result_dir *d, int *committed,
                                     ipabs_error *err)
{
    *committed = 0;
    if (is_empty_dir(d->tmp)) {
        remove_tree(d->tmp);
        return IPABS_OK;
    }
    if (rename(d->tmp, d->target) == 0) { /* OUT did not exist (or was empty) */
        *committed = 1;
        return IPABS_OK;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
        int failure = errno;
        remove_tree(d->tmp);
        return ipabs_error_set(err, IPABS_EIO, d->target, 0, 0, NULL,
                               "cannot move the results into place: %s", strerror(failure));
    }
    if (renameat2(AT_FDCWD, d->tmp, AT_FDCWD, d->target, RENAME_EXCHANGE) == 0) {
        restore_others(d);
        *committed = 1;
        return IPABS_OK;
    }
    ipabs_status s = move_each(d, err);
    *committed = s == IPABS_OK;
    return s;
}

void ipabs_result_dir_abort(ipabs_result_dir *d)
{
    if (d->tmp[0] != '\0')
        remove_tree(d->tmp);
}
