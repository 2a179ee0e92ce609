"""resave_checkpoint.py: the state dict of a checkpoint written again in another
of the forms published CIFAR checkpoints take, for tests/import-checkpoint.test.mjs:

    python3 resave_checkpoint.py IN OUTDIR VARIANT...

VARIANT is FORMAT:NEST:PREFIX[:FLAG...] and is written to OUTDIR/VARIANT.th with
the colons as underscores, e.g. legacy:net:module.  or  zip:none::float16:
FORMAT zip|legacy|safetensors, NEST none|state_dict|model|net, PREFIX "" or
"module.", FLAGs float16, float64 (tensors of that type) and parameters.

legacy is torch.save(..., _use_new_zipfile_serialization=False) (the raw
pickle + storages of PyTorch < 1.6 and of many published .th files); safetensors is
written here by hand (8-byte header length, JSON header, raw little-endian data:
the format's whole definition), since the safetensors package is not installed.
NEST puts the state dict under that key beside an epoch and an accuracy;
PREFIX adds DataParallel's "module."; "parameters" saves nn.Parameters (as
model.state_dict(keep_vars=True) does), which pickle through _rebuild_parameter.
"""
import json
import os
import struct
import sys

import torch


def save(sd, out, fmt, nest, prefix, flags):
    for f in flags:
        if f not in ("float16", "float64", "parameters"):
            raise SystemExit(f"resave_checkpoint: unknown flag '{f}'")
    dtype = torch.float16 if "float16" in flags else torch.float64 if "float64" in flags else torch.float32
    sd = {prefix + k: (v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items()}
    if "parameters" in flags:
        sd = {k: torch.nn.Parameter(v, requires_grad=False) if v.is_floating_point() else v
              for k, v in sd.items()}
    if fmt == "safetensors":
        names = {torch.float32: "F32", torch.float16: "F16", torch.float64: "F64", torch.int64: "I64"}
        header, blobs, at = {"__metadata__": {"format": "pt"}}, [], 0
        for k, v in sd.items():
            b = v.detach().contiguous().numpy().tobytes()
            header[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [at, at + len(b)]}
            blobs.append(b)
            at += len(b)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(out, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        return
    if nest != "none":
        sd = {"epoch": 160, "best_prec1": 91.25, nest: sd, "arch": "resnet"}
    if fmt not in ("zip", "legacy"):
        raise SystemExit(f"resave_checkpoint: unknown format '{fmt}'")
    torch.save(sd, out, _use_new_zipfile_serialization=(fmt == "zip"))


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    inp, outdir = sys.argv[1], sys.argv[2]
    obj = torch.load(inp, map_location="cpu")
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    for variant in sys.argv[3:]:
        fmt, nest, prefix, *flags = variant.split(":")
        save(sd, os.path.join(outdir, variant.replace(":", "_") + ".th"), fmt, nest, prefix, flags)


if __name__ == "__main__":
    main()
