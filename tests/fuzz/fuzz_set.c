/*
 * fuzz_set.c — libFuzzer harness: the bytes are --set overrides of the
 * reference scenario, one per line (at most 16).  A loaded deal is run.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    fuzz_copy(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml", "s.yaml");
    fuzz_copy(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv",
              "shenyang-ip-abs-loans.csv");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *sets[16];
    int n = 0;
    for (char *line = text; line != NULL && n < 16;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        sets[n++] = line;
        line = nl ? nl + 1 : NULL;
    }
    fuzz_load(fuzz_path("s.yaml"), sets, n);
    free(text);
    return 0;
}
