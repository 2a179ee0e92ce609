"""bench/native-train: training images/s of `unravel train` against PyTorch CPU
doing the same steps (same network, batch 128, SGD with Nesterov momentum,
2 threads), in one run, and the peak memory (RSS) of unravel's trainer.
Run: bench/native-train"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_resnet import CifarResNet, cifar_batch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(REPO, "build", "unravel")
DATA = os.environ.get("CIFAR10_DIR", os.path.join(REPO, "..", "shared", "cifar10"))
STEPS = int(os.environ.get("BENCH_STEPS", "30"))
BATCH, THREADS = 128, 2


def unravel_train(n, widths, tmp):
    out = os.path.join(tmp, f"t{n}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([CLI, "train", "--blocks-per-stage", str(n), "--widths", ",".join(map(str, widths)),
                    "--shortcut", "A", "--epochs", "1",
                    "--batch", str(BATCH), "--threads", str(THREADS), "--max-steps", str(STEPS),
                    "--eval-limit", "100", "--data", DATA, "--out", out],
                   check=True, capture_output=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out + ".log.jsonl") as f:
        line = json.loads(f.readline())
    return line["train_images_per_second"], max(peak_kb, before) / 1024


def torch_train(n, widths, x, y):
    model = CifarResNet(n, widths, "A").train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    def step(i):
        xb = x[(i * BATCH) % (len(x) - BATCH):][:BATCH]
        yb = y[(i * BATCH) % (len(x) - BATCH):][:BATCH]
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    for i in range(2):
        step(i)
    t0 = time.perf_counter()
    for i in range(STEPS):
        step(i)
    return STEPS * BATCH / (time.perf_counter() - t0)


def main():
    torch.set_num_threads(THREADS)
    x, y = cifar_batch(DATA, 2048, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # ResNet-110-half: the paper's 54 blocks at widths 8/16/32, thin layers
        for name, n, widths in (("ResNet-20", 3, [16, 32, 64]), ("ResNet-56", 9, [16, 32, 64]),
                                ("ResNet-110-half", 18, [8, 16, 32])):
            u, rss = unravel_train(n, widths, tmp)
            t = torch_train(n, widths, x, y)
            rows.append((name, u, t, rss))
    print(f"native training, batch {BATCH}, {THREADS} threads, {STEPS} steps, torch {torch.__version__}")
    print(f"{'network':<16} {'unravel img/s':>14} {'PyTorch img/s':>14} {'ratio':>7} {'unravel peak RSS':>17}")
    for name, u, t, rss in rows:
        print(f"{name:<16} {u:>14.0f} {t:>14.0f} {u / t:>6.2f}x {rss:>14.0f} MB")


if __name__ == "__main__":
    main()
