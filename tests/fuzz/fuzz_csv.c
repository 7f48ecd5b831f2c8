/*
 * fuzz_csv.c — libFuzzer harness: the bytes are a result CSV read back by
 * ipabs_table_read (the reader of `plot` and the workbook); every cell of
 * every row is then looked up by the header's columns, as those readers do.
 */
#include "fuzz_common.h"

#include "ipabs/csvin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("r.csv", data, size);
    ipabs_table t;
    ipabs_error err = {0};
    if (ipabs_table_read(fuzz_path("r.csv"), &t, &err) != IPABS_OK)
        return 0;
    double sum = 0.0, x;
    for (int r = 0; r < t.n_rows; r++)
        for (int c = 0; c < t.row_len[0]; c++) {
            if (ipabs_table_col(&t, t.cell[0][c]) < 0)
                abort(); /* a header name not found in the header */
            if (ipabs_table_num(&t, r, c, &x))
                sum += x;
        }
    if (sum != sum)
        abort(); /* ipabs_table_num promises finite numbers */
    ipabs_table_free(&t);
    return 0;
}
