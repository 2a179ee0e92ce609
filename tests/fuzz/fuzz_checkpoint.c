/* fuzz_checkpoint.c: libFuzzer target for PyTorch checkpoints (torch.save
 * zip, legacy torch.save, safetensors; fuzz_inputs.h). Built and run by
 * scripts/fuzz.sh. */
#include "fuzz_inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_checkpoint_input(data, size);
    return 0;
}
