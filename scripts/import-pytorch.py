#!/usr/bin/env python3
"""import-pytorch.py: turn a PyTorch CIFAR ResNet checkpoint into an unravel model
(NAME.json manifest + NAME.bin weights), so the CLI, the JS API and the page can
lesion, reorder and take apart a network trained elsewhere.

    python3 scripts/import-pytorch.py CHECKPOINT --out models/mynet [--shortcut A|B|none]
                                      [--mean R,G,B --std R,G,B] [--name NAME]

Reads the state dict (a bare one, or under "state_dict" / "model"; a DataParallel
"module." prefix is dropped) of CIFAR ResNets in these layouts:

  - unravel's own names (stem.conv, stem.bn, blocks.I.conv1, ..., fc);
  - the widely used PyTorch CIFAR ResNets (conv1, bn1, layerS.J.conv1/bn1/conv2/bn2,
    shortcut.0/shortcut.1 or downsample.0/downsample.1 for projections, linear or
    fc), with 3 stages (ResNet-20 to ResNet-1202) or 4 (the ResNet-18/34 of CIFAR
    training repositories, with a 3x3 stem), any number of blocks per stage;
  - pre-activation nets (PreActResNet-18/34; Wide ResNets, whose blockS.layer.J and
    convShortcut names are read too), with or without a batch norm before the
    pool, told apart from post-activation ones by the batch-norm shapes
    (--block pre|post says so explicitly).

The architecture (stages, blocks per stage, widths, stem width, classes) is read
off the tensor names and shapes (unravel's own blocks.I names carry no stages:
they are taken as 3 equal stages unless --blocks-per-stage says otherwise).
Shortcut A (parameter-free subsample + zero-pad) and `none` leave no tensors, so
a checkpoint without projections is taken as A unless --shortcut none says it is
a plain network. --mean/--std must be the normalisation the network was trained
with (in 0..1 pixel units); the default is the usual CIFAR-10 one. Check the
result with `unravel info` and `unravel eval`.

Needs PyTorch to read the checkpoint (Debian: apt-get install python3-torch).
"""
import argparse
import hashlib
import json
import os
import re
import sys

ALIGN = 64
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
BN_PARTS = ("weight", "bias", "running_mean", "running_var")


def fail(msg):
    sys.exit(f"import-pytorch: {msg}")


# What a state dict's pickle may name: containers and torch's tensor and
# storage rebuilders. Anything else (os.system through __reduce__, any class)
# is refused before it is looked up, so loading a stranger's file runs no code.
SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "Size"),
}


class RefusedGlobal(Exception):
    pass


def safe_pickle_module():
    """A copy of the pickle module whose Unpickler looks up only SAFE_GLOBALS
    and torch's storage classes. (torch.load(weights_only=True) would do, but
    torch 1.13's version refuses plain floats, which many CIFAR checkpoints
    keep beside their weights, e.g. best_prec1.)"""
    import pickle
    import types

    class Unpickler(pickle.Unpickler):
        used = False

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            Unpickler.used = True

        def find_class(self, module, name):
            if (module, name) in SAFE_GLOBALS or (module == "torch" and name.endswith("Storage")):
                return super().find_class(module, name)
            raise RefusedGlobal(f"{module}.{name}")

    safe = types.ModuleType("unravel_safe_pickle")
    safe.__dict__.update({k: v for k, v in vars(pickle).items() if not k.startswith("__")})
    safe.Unpickler = Unpickler
    safe.load = lambda f, **kw: Unpickler(f, **kw).load()
    safe.loads = lambda b, **kw: Unpickler(__import__("io").BytesIO(b), **kw).load()
    return safe


def safe_torch_load(torch, path):
    """torch.load through safe_pickle_module(). torch 1.13's torch.load drops
    a pickle_module it is given (it uses the module `pickle` of
    torch.serialization unless weights_only), so that name is pointed at the
    safe copy for the call too."""
    import torch.serialization as ser
    safe = safe_pickle_module()
    saved = ser.pickle
    ser.pickle = safe
    try:
        obj = torch.load(path, map_location="cpu", pickle_module=safe)
    finally:
        ser.pickle = saved
    if not safe.Unpickler.used:
        fail(f"PyTorch {torch.__version__} did not unpickle through the safe unpickler: refusing to go on")
    return obj


def load_state_dict(path):
    try:
        import torch
    except ImportError:
        fail("needs PyTorch to read checkpoints (Debian: apt-get install python3-torch)")
    try:
        obj = safe_torch_load(torch, path)
    except RefusedGlobal as e:
        fail(f"{path}: refused: the checkpoint holds Python objects other than tensors, "
             f"which would run code to load (global '{e}')")
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's error to see
        fail(f"{path}: not a PyTorch checkpoint ({e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    for key in ("state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        fail(f"{path}: no state dict inside (found {type(obj).__name__})")
    sd = {}
    for k, v in obj.items():
        if not hasattr(v, "detach"):
            continue
        k = k[len("module."):] if k.startswith("module.") else k
        if k.endswith("num_batches_tracked"):
            continue
        sd[k] = v.detach().to("cpu").float().contiguous().numpy()
    return sd


def wrn_to_layer_names(sd):
    """Wide ResNet names (blockS.layer.J.*, convShortcut) spelled as layerS.J.* / shortcut.0."""
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^block(\d+)\.layer\.(\d+)\.", r"layer\1.\2.", k)
        k = re.sub(r"\.convShortcut\.", ".shortcut.0.", k)
        out[k] = v
    return out


def is_preactivation(sd):
    """Pre-activation blocks put bn1 before conv1, so at a block whose conv1 changes the
    channel count bn1 has conv1's input width; post-activation bn1 has its output width."""
    if any(k.startswith("blocks.") for k in sd):
        return "stem.bn.weight" not in sd
    for k, w in sd.items():
        m = re.match(r"(layer\d+\.\d+)\.conv1\.weight$", k)
        bn = sd.get(f"{m.group(1)}.bn1.weight") if m else None
        if bn is not None and w.shape[0] != w.shape[1]:
            return bn.shape[0] == w.shape[1]
    # every block keeps its width: a post-activation net has a stem batch norm of the stem's width
    stem, top = sd.get("conv1.weight"), sd.get("bn1.weight")
    return top is None or stem is None or top.shape[0] != stem.shape[0]


def to_unravel_names(sd, path, stage_blocks=None, pre=False):
    """Maps a state dict to unravel's tensor names; returns (tensors, blocks per stage, widths)."""
    if any(k.startswith("blocks.") for k in sd):
        out = dict(sd)
    else:
        out = {}
        blocks = {}
        for k in sd:
            m = re.match(r"layer(\d+)\.(\d+)\.", k)
            if m:
                blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
        stages = sorted(blocks)
        if stages not in ([1, 2, 3], [1, 2, 3, 4]):
            fail(f"{path}: expected layer1 to layer3 or layer4 (or unravel's blocks.I); found "
                 f"{['layer%d' % s for s in stages]}")
        for s in stages:
            if sorted(blocks[s]) != list(range(len(blocks[s]))):
                fail(f"{path}: layer{s} has blocks {sorted(blocks[s])}, not 0..{len(blocks[s]) - 1}")
        found = [len(blocks[s]) for s in stages]
        if stage_blocks and stage_blocks != found:
            fail(f"{path}: --blocks-per-stage says {stage_blocks}, the checkpoint has {found}")
        stage_blocks = found
        first = [sum(stage_blocks[:s]) for s in range(len(stage_blocks))]
        for k, v in sd.items():
            m = re.match(r"layer(\d+)\.(\d+)\.(.*)", k)
            if m:
                i = first[int(m.group(1)) - 1] + int(m.group(2))
                rest = m.group(3)
                rest = re.sub(r"^(shortcut|downsample)\.0\.", "shortcut.conv.", rest)
                rest = re.sub(r"^(shortcut|downsample)\.1\.", "shortcut.bn.", rest)
                out[f"blocks.{i}.{rest}"] = v
            elif k.startswith("conv1."):
                out["stem.conv." + k[len("conv1."):]] = v
            elif k.startswith("bn1.") or (pre and k.startswith("bn.")):
                # post-activation: the stem's batch norm; pre-activation: the one before the pool
                out[("head.bn." if pre else "stem.bn.") + k.split(".", 1)[1]] = v
            elif k.startswith("linear.") or k.startswith("fc."):
                out["fc." + k.split(".", 1)[1]] = v
            else:
                fail(f"{path}: tensor '{k}' has no place in a CIFAR ResNet")
    nblocks = 1 + max((int(k.split(".")[1]) for k in out if k.startswith("blocks.")), default=-1)
    if stage_blocks is None:
        if nblocks == 0 or nblocks % 3:
            fail(f"{path}: {nblocks} blocks in unravel's names, not 3 equal stages: "
                 f"give --blocks-per-stage")
        stage_blocks = [nblocks // 3] * 3
    if sum(stage_blocks) != nblocks:
        fail(f"{path}: {nblocks} blocks, but --blocks-per-stage adds up to {sum(stage_blocks)}")
    for name in ("stem.conv.weight", "fc.weight", "fc.bias") + (() if pre else tuple(f"stem.bn.{p}" for p in BN_PARTS)):
        if name not in out:
            fail(f"{path}: tensor '{name}' (or its PyTorch-layout name) is missing")
    first = [sum(stage_blocks[:s]) for s in range(len(stage_blocks))]
    for f in first:
        if f"blocks.{f}.conv1.weight" not in out:
            fail(f"{path}: tensor 'blocks.{f}.conv1.weight' (or its PyTorch-layout name) is missing")
    widths = [int(out[f"blocks.{f}.conv1.weight"].shape[0]) for f in first]
    return out, stage_blocks, widths


def build(args):
    sd = wrn_to_layer_names(load_state_dict(args.checkpoint))
    pre = is_preactivation(sd) if args.block == "auto" else args.block == "pre"
    t, stage_blocks, widths = to_unravel_names(sd, args.checkpoint, args.blocks_per_stage, pre)
    nblocks = sum(stage_blocks)
    head_bn = pre and "head.bn.weight" in t
    stem_width = int(t["stem.conv.weight"].shape[0])
    has_proj = any(".shortcut.conv." in k for k in t)
    shortcut = args.shortcut or ("B" if has_proj else "A")
    if has_proj and shortcut != "B":
        fail(f"{args.checkpoint}: has projection shortcuts, so it is shortcut B, not {shortcut}")
    if shortcut == "B" and not has_proj:
        fail(f"{args.checkpoint}: --shortcut B needs projection tensors (shortcut.0 / downsample.0); none found")
    classes = int(t["fc.weight"].shape[0])

    # Every tensor unravel expects, in its order; the loader checks the shapes.
    # (pre-activation: bn1 before conv1, no stem or projection batch norm, maybe one before the pool)
    names = ["stem.conv.weight"] + ([] if pre else [f"stem.bn.{p}" for p in BN_PARTS])
    for b in range(nblocks):
        bn1, bn2 = ([f"blocks.{b}.bn{i}.{p}" for p in BN_PARTS] for i in (1, 2))
        if pre:
            names += bn1 + [f"blocks.{b}.conv1.weight"] + bn2 + [f"blocks.{b}.conv2.weight"]
        else:
            names += [f"blocks.{b}.conv1.weight"] + bn1 + [f"blocks.{b}.conv2.weight"] + bn2
        if shortcut == "B" and f"blocks.{b}.shortcut.conv.weight" in t:
            names += [f"blocks.{b}.shortcut.conv.weight"]
            names += [] if pre else [f"blocks.{b}.shortcut.bn.{p}" for p in BN_PARTS]
    names += ([f"head.bn.{p}" for p in BN_PARTS] if head_bn else []) + ["fc.weight", "fc.bias"]
    missing = [k for k in names if k not in t]
    if missing:
        fail(f"{args.checkpoint}: missing {len(missing)} tensor(s), first '{missing[0]}'")
    extra = sorted(set(t) - set(names))
    if extra:
        fail(f"{args.checkpoint}: tensor '{extra[0]}' does not belong to a {shortcut} network of this shape")

    blob = bytearray()
    tensors = []
    for k in names:
        a = t[k].astype("<f4", copy=False)
        blob += b"\0" * (-len(blob) % ALIGN)
        tensors.append({"name": k, "shape": [int(d) for d in a.shape], "offset": len(blob), "length": a.nbytes})
        blob += a.tobytes()
    params = sum(int(t[k].size) for k in names)   # as unravel counts: batch-norm statistics too
    base = os.path.basename(args.out)
    manifest = {
        "format": "unravel-model",
        "version": 1,
        "name": args.name or base,
        "arch": {"family": "cifar-resnet", "depth": 2 * nblocks + 2,
                 "blocks_per_stage": stage_blocks[0] if len(set(stage_blocks)) == 1 else stage_blocks,
                 "widths": widths,
                 **({"stem_width": stem_width} if stem_width != widths[0] else {}),
                 **({"preactivation": True, "head_bn": head_bn} if pre else {}),
                 "shortcut": shortcut, "num_classes": classes, "bn_eps": args.bn_eps,
                 "block": "pre-activation basic block: shortcut(x) + conv2(relu(bn2(conv1(relu(bn1(x)))))); "
                          "a projection reads relu(bn1(x))" if pre else
                          "post-activation basic block: relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x))))))"},
        "input": {"layout": "CIFAR-10 record: uint8 R, G, B planes of 32x32; x = (pixel/255 - mean) / std",
                  "mean": list(args.mean), "std": list(args.std)},
        "weights": {"file": base + ".bin", "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                    "dtype": "float32 little-endian",
                    "layout": "PyTorch: conv (out, in, kh, kw), linear (out, in); batch norm unfolded",
                    "parameters": params},
        "metrics": {},
        "training": {"imported_from": os.path.basename(args.checkpoint),
                     "importer": "scripts/import-pytorch.py"},
        "tensors": tensors,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".bin", "wb") as f:
        f.write(blob)
    with open(args.out + ".json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"import-pytorch: wrote {args.out}.json + .bin: ResNet-{2 * nblocks + 2} ({nblocks} blocks: "
          f"{'/'.join(map(str, stage_blocks))}, widths {'/'.join(map(str, widths))}, shortcut {shortcut}, "
          f"{('pre-activation' + (' + head batch norm' if head_bn else '') + ', ') if pre else ''}"
          f"{classes} classes, {params:,} parameters)")


def stage_counts(s):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{s}' is not 1 to 4 block counts like 3,3,3")
    if not 1 <= len(v) <= 4 or min(v) < 1:
        raise argparse.ArgumentTypeError(f"'{s}' is not 1 to 4 block counts like 3,3,3")
    return v


def triple(s):
    try:
        v = tuple(float(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{s}' is not three numbers like 0.49,0.48,0.45")
    if len(v) != 3 or not all(x == x and abs(x) < 1e3 for x in v):
        raise argparse.ArgumentTypeError(f"'{s}' is not three numbers like 0.49,0.48,0.45")
    return v


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", required=True, help="output path without extension, e.g. models/mynet")
    p.add_argument("--shortcut", choices=("A", "B", "none"), help="default: B if the checkpoint has projections, else A")
    p.add_argument("--mean", type=triple, default=CIFAR_MEAN, help="per-channel mean in 0..1 units (default CIFAR-10's)")
    p.add_argument("--std", type=triple, default=CIFAR_STD, help="per-channel std in 0..1 units (default CIFAR-10's)")
    p.add_argument("--blocks-per-stage", type=stage_counts,
                   help="blocks in each stage, e.g. 2,2,2,2 (read from layerS names; needed for "
                        "unravel's blocks.I names when the stages differ)")
    p.add_argument("--block", choices=("auto", "post", "pre"), default="auto",
                   help="post-activation (ResNet v1) or pre-activation blocks (PreActResNet, Wide ResNet); "
                        "default: read off the batch-norm shapes")
    p.add_argument("--bn-eps", type=float, default=1e-5, help="batch-norm epsilon (PyTorch's default 1e-5)")
    p.add_argument("--name", help="model name in the manifest (default: the output's file name)")
    args = p.parse_args()
    if any(s <= 0 for s in args.std):
        p.error("--std values must be positive")
    build(args)


if __name__ == "__main__":
    main()
