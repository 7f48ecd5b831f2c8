/*
 * file.c — opening input files: regular files only, with a size limit.
 *
 * Why O_NONBLOCK: opening a FIFO for reading blocks until a writer comes;
 * with O_NONBLOCK it returns at once and fstat tells us what it is.
 */
#include "ipabs/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a file";
}

FILE *ipabs_file_open_regular(const char *path, long long max_bytes, char *why,
                              size_t cap)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        snprintf(why, cap, "not a regular file (%s); only regular files are read",
                 kind_of(sb.st_mode));
    } else if ((long long)sb.st_size > max_bytes) {
        snprintf(why, cap, "%lld bytes, larger than the limit of %lld MiB",
                 (long long)sb.st_size, max_bytes >> 20);
    } else {
        int flags = fcntl(fd, F_GETFL);
        FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0
                      ? NULL : fdopen(fd, "rb");
        if (f != NULL)
            return f;
        snprintf(why, cap, "%s", strerror(errno));
    }
    close(fd);
    return NULL;
}
