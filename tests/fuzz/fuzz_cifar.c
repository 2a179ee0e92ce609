/* fuzz_cifar.c: libFuzzer target for the cifar input (format in fuzz_inputs.h).
 * Built and run by scripts/fuzz.sh. */
#include "fuzz_inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cifar_input(data, size);
    return 0;
}
