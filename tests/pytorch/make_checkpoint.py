"""make_checkpoint.py: a PyTorch CIFAR ResNet checkpoint in the layout of the
widely used PyTorch CIFAR ResNets (conv1, bn1, layerS.J..., linear; option A as
a subsample + zero-pad lambda, option B as shortcut.0/.1), defined here
independently of unravel, with random weights and batch-norm statistics; plus
random test images as a CIFAR-10 binary file and the logits PyTorch gives them.
tests/import-pytorch.test.mjs imports the checkpoint and compares.

    python3 make_checkpoint.py OUTDIR --shortcut A|B|none [--n 1] [--images 16]
                               [--blocks 2,2,2,2 --widths 8,16,32,64] [--torchvision-names]

--blocks/--widths give other stage layouts (4 stages: the ResNet-18/34 of CIFAR
training repositories); --torchvision-names spells projections downsample.0/.1
and the classifier fc, as torchvision's ResNet does. --preact builds a
PreActResNet (bare conv stem, pre-activation blocks, projection without batch
norm, no batch norm before the pool); --wrn a Wide ResNet (the same blocks, a
16-channel stem, batch norm + ReLU before the pool, the blockS.layer.J /
convShortcut / bn1 / fc names of the reference PyTorch port).
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride, option, proj_name="shortcut"):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.option = option
        self.down = stride != 1 or cin != cout
        self.proj_name = proj_name
        if option == "B" and self.down:
            setattr(self, proj_name, nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))
        self.pad = (cout - cin) // 2

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.option == "none":
            return F.relu(out)
        if not self.down:
            sc = x
        elif self.option == "A":
            sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        else:
            sc = getattr(self, self.proj_name)(x)
        return F.relu(out + sc)


class PreActBlock(nn.Module):
    """relu(bn1(x)) feeds conv1 and a projection; no ReLU after the sum."""

    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.option = option
        self.down = stride != 1 or cin != cout
        if option == "B" and self.down:
            self.convShortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)
        self.pad = (cout - cin) // 2

    def forward(self, x):
        u = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(u))))
        if self.option == "none":
            return out
        if not self.down:
            return out + x
        if self.option == "A":
            return out + F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return out + self.convShortcut(u)


class PreActNet(nn.Module):
    """wrn=False: PreActResNet names (layerS.J, shortcut.0, linear), no final batch norm.
    wrn=True: Wide ResNet names (blockS.layer.J, convShortcut, bn1 before the pool, fc)."""

    def __init__(self, blocks, option, widths, stem, wrn, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
        cin = stem
        self.layers = []
        for s, w in enumerate(widths):
            layer = []
            for j in range(blocks[s]):
                layer.append(PreActBlock(cin, w, 2 if s > 0 and j == 0 else 1, option))
                cin = w
            if wrn:
                holder = nn.Module()
                holder.layer = nn.Sequential(*layer)
                setattr(self, f"block{s + 1}", holder)
                self.layers.append(holder.layer)
            else:
                setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
                self.layers.append(getattr(self, f"layer{s + 1}"))
        self.wrn = wrn
        if wrn:
            self.bn1 = nn.BatchNorm2d(widths[-1])
            self.fc = nn.Linear(widths[-1], classes)
        else:
            self.linear = nn.Linear(widths[-1], classes)

    def forward(self, x):
        x = self.conv1(x)
        for layer in self.layers:
            x = layer(x)
        if self.wrn:
            x = F.relu(self.bn1(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x) if self.wrn else self.linear(x)


class Net(nn.Module):
    def __init__(self, blocks, option, widths=(16, 32, 64), classes=10, torchvision_names=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        self.layers = []
        for s, w in enumerate(widths):
            layer = []
            for j in range(blocks[s]):
                layer.append(Block(cin, w, 2 if s > 0 and j == 0 else 1, option,
                                   "downsample" if torchvision_names else "shortcut"))
                cin = w
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
            self.layers.append(f"layer{s + 1}")
        self.head = "fc" if torchvision_names else "linear"
        setattr(self, self.head, nn.Linear(widths[-1], classes))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for name in self.layers:
            x = getattr(self, name)(x)
        return getattr(self, self.head)(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--shortcut", default="A")
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--blocks", help="blocks per stage, e.g. 2,2,2,2 (default: n in each of 3 stages)")
    p.add_argument("--widths", default="16,32,64")
    p.add_argument("--torchvision-names", action="store_true")
    p.add_argument("--preact", action="store_true")
    p.add_argument("--wrn", action="store_true")
    p.add_argument("--stem", type=int, help="stem width (default: the first stage's)")
    a = p.parse_args()
    torch.manual_seed(7)
    widths = [int(w) for w in a.widths.split(",")]
    blocks = [int(b) for b in a.blocks.split(",")] if a.blocks else [a.n] * len(widths)
    if a.preact or a.wrn:
        net = PreActNet(blocks, a.shortcut, widths, a.stem or widths[0], a.wrn)
    else:
        net = Net(blocks, a.shortcut, widths, torchvision_names=a.torchvision_names)
    for m in net.modules():    # non-trivial batch-norm statistics, so folding matters
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    net.eval()
    os.makedirs(a.out, exist_ok=True)
    torch.save({"epoch": 1, "state_dict": {"module." + k: v for k, v in net.state_dict().items()}},
               os.path.join(a.out, "checkpoint.th"))
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, a.images, dtype=np.uint8)
    pixels = rng.integers(0, 256, (a.images, 3, 32, 32), dtype=np.uint8)
    with open(os.path.join(a.out, "test_batch.bin"), "wb") as f:
        for i in range(a.images):
            f.write(bytes([labels[i]]) + pixels[i].tobytes())
    mean = np.array((0.4914, 0.4822, 0.4465), np.float32)[None, :, None, None]
    std = np.array((0.2470, 0.2435, 0.2616), np.float32)[None, :, None, None]
    x = torch.from_numpy((pixels.astype(np.float32) / 255.0 - mean) / std)
    with torch.no_grad():
        net(x).numpy().astype("<f4").tofile(os.path.join(a.out, "expected_logits.bin"))


if __name__ == "__main__":
    main()
