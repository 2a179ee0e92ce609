"""The same CIFAR ResNet in PyTorch, built from an unravel manifest and its
weights, for the native benchmarks (bench/native-inference, bench/native-train)
and as an independent check of unravel's logits. Bench-only: never imported by
tests."""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Projection(nn.Module):
    """Shortcut B: 1x1 conv with stride, then batch norm (names as in unravel)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.kind = shortcut
        self.down = stride != 1 or cin != cout
        self.pad = (cout - cin) // 2
        self.stride = stride
        if shortcut == "B" and self.down:
            self.shortcut = Projection(cin, cout, stride)

    def skip(self, x):
        if self.kind == "none":
            return None
        if not self.down:
            return x
        if self.kind == "A":
            x = x[:, :, :: self.stride, :: self.stride]
            return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))
        return self.shortcut(x)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = self.skip(x)
        return F.relu(y if s is None else y + s)


class CifarResNet(nn.Module):
    def __init__(self, n, widths, shortcut, classes=10):
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.conv = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.stem.bn = nn.BatchNorm2d(widths[0])
        blocks, cin = [], widths[0]
        for s, w in enumerate(widths):
            for i in range(n):
                blocks.append(Block(cin, w, 2 if s > 0 and i == 0 else 1, shortcut))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(widths[2], classes)

    def forward(self, x):
        x = F.relu(self.stem.bn(self.stem.conv(x)))
        x = self.blocks(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def load(manifest_path):
    """The model of an unravel manifest, weights loaded, in eval mode."""
    with open(manifest_path) as f:
        man = json.load(f)
    a = man["arch"]
    model = CifarResNet(a["blocks_per_stage"], a["widths"], a["shortcut"], a["num_classes"])
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = a.get("bn_eps", 1e-5)
    raw = open(os.path.join(os.path.dirname(manifest_path), man["weights"]["file"]), "rb").read()
    state = {}
    for t in man["tensors"]:
        arr = np.frombuffer(raw, dtype="<f4", count=t["length"] // 4, offset=t["offset"])
        state[t["name"]] = torch.from_numpy(arr.copy()).reshape(t["shape"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    return model.eval(), man


def cifar_batch(data_dir, n, mean, std):
    """The first n test images, normalised, NCHW, and their labels."""
    raw = np.fromfile(os.path.join(data_dir, "test_batch.bin"), dtype=np.uint8, count=n * 3073)
    raw = raw.reshape(n, 3073)
    x = raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / 255.0
    x = (x - np.array(mean, np.float32)[None, :, None, None]) / np.array(std, np.float32)[None, :, None, None]
    return torch.from_numpy(x), torch.from_numpy(raw[:, 0].astype(np.int64))
