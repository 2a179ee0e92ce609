/* fuzz_model.c: libFuzzer target for the model input (format in fuzz_inputs.h).
 * Built and run by scripts/fuzz.sh. */
#include "fuzz_inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_model_input(data, size);
    return 0;
}
