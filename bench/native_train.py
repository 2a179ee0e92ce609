"""bench/native-train: training images/s of `unravel train` against PyTorch CPU
doing the same steps (same network, batch 128, SGD with Nesterov momentum,
2 threads), in one run, and the peak memory (RSS) of unravel's trainer.
The two take turns, BENCH_ROUNDS rounds (default 3) per network: PyTorch's
speed on this machine swings by up to 2x from run to run, so the table gives
the median of each and the ratio against PyTorch's best round too.
Run: bench/native-train"""
import json
import os
import statistics
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
DATA = os.environ.get("CIFAR10_DIR", os.path.join(REPO, "data", "cifar10"))
STEPS = int(os.environ.get("BENCH_STEPS", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BATCH, THREADS = 128, 2


def unravel_train(n, widths, tmp):
    out = os.path.join(tmp, f"t{n}")
    proc = subprocess.Popen([CLI, "train", "--blocks-per-stage", str(n), "--widths", ",".join(map(str, widths)),
                             "--shortcut", "A", "--epochs", "1",
                             "--batch", str(BATCH), "--threads", str(THREADS), "--max-steps", str(STEPS),
                             "--eval-limit", "100", "--data", DATA, "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)   # this child's own peak RSS, not the largest child's so far
    if status != 0:
        sys.exit(f"bench: unravel train failed: {err.decode()[-500:]}")
    with open(out + ".log.jsonl") as f:
        line = json.loads(f.readline())
    return line["train_images_per_second"], usage.ru_maxrss / 1024


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
            us, ts, rss = [], [], 0
            for _ in range(ROUNDS):   # in turns, so a slow spell of the machine hits both
                u, r = unravel_train(n, widths, tmp)
                us.append(u)
                rss = max(rss, r)
                ts.append(torch_train(n, widths, x, y))
            rows.append((name, us, ts, rss))
    print(f"native training, batch {BATCH}, {THREADS} threads, {STEPS} steps, {ROUNDS} rounds in turns, torch {torch.__version__}")
    print(f"{'network':<16} {'unravel img/s':>14} {'PyTorch img/s':>14} {'ratio':>7} {'PyTorch best':>13} {'ratio':>7} "
          f"{'unravel peak RSS':>17}")
    for name, us, ts, rss in rows:
        u, t = statistics.median(us), statistics.median(ts)
        print(f"{name:<16} {u:>14.0f} {t:>14.0f} {u / t:>6.2f}x {max(ts):>13.0f} {u / max(ts):>6.2f}x {rss:>14.0f} MB")
    print("img/s: median of the rounds; ranges: " + "; ".join(
        f"{name} unravel {min(us):.0f}-{max(us):.0f}, PyTorch {min(ts):.0f}-{max(ts):.0f}" for name, us, ts, _ in rows))


if __name__ == "__main__":
    main()
