/*
 * fuzz_scenario.c — libFuzzer harness: the bytes are a scenario YAML file,
 * next to the reference loan tape (so a scenario naming
 * shenyang-ip-abs-loans.csv loads).  A loaded deal is run.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    fuzz_copy(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv",
              "shenyang-ip-abs-loans.csv");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("s.yaml", data, size);
    fuzz_load(fuzz_path("s.yaml"), NULL, 0);
    return 0;
}
