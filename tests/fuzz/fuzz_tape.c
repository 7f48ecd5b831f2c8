/*
 * fuzz_tape.c — libFuzzer harness: the bytes are the loan tape of the
 * reference scenario.  Its tranche balances must still match the pool, so
 * most mutated tapes stop at the reader's checks, which are the target; a
 * tape that loads is run.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    fuzz_copy(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml", "s.yaml");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("shenyang-ip-abs-loans.csv", data, size);
    fuzz_load(fuzz_path("s.yaml"), NULL, 0);
    return 0;
}
