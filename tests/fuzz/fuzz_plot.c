/*
 * fuzz_plot.c — libFuzzer harness: `ipabs plot` on a directory holding one
 * result CSV.  The first byte chooses which file the rest is (cdr.csv,
 * sweep.csv, loss_distribution.csv, default_count.csv, breakeven.csv).
 * Charts written are removed after each input.
 */
#include "fuzz_common.h"

#include <dirent.h>

#include "ipabs/plot.h"

static const char *const names[] = {"cdr.csv", "sweep.csv", "loss_distribution.csv",
                                     "default_count.csv", "breakeven.csv"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static void clear_dir(void)
{
    DIR *d = opendir(fuzz_dir);
    struct dirent *e;
    char names_seen[64][256];
    int n = 0;
    while (d != NULL && (e = readdir(d)) != NULL && n < 64)
        if (e->d_name[0] != '.')
            snprintf(names_seen[n++], sizeof names_seen[0], "%s", e->d_name);
    if (d != NULL)
        closedir(d);
    for (int i = 0; i < n; i++)
        remove(fuzz_path(names_seen[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    clear_dir();
    fuzz_write(names[data[0] % 5], data + 1, size - 1);
    int written = 0;
    ipabs_error err = {0};
    ipabs_plot_dir(fuzz_dir, &written, &err);
    clear_dir();
    return 0;
}
