"""bench/native-inference: unravel's native CLI against PyTorch CPU on the
same networks (same random weights), batch 100, 2 threads, in one run: ResNet-20
and ResNet-56 (shortcut A), and ResNet-20 with shortcut B and without shortcuts
(plain-20). Also checks that both give the same logits, for these and for every
trained model in models/, so the two implementations vouch for each other.
Run: bench/native-inference"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_resnet import cifar_batch, load  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(REPO, "build", "unravel")
DATA = os.environ.get("CIFAR10_DIR", os.path.join(REPO, "data", "cifar10"))
IMAGES = int(os.environ.get("BENCH_IMAGES", "2000"))
THREADS = 2
BATCH = 100
# unravel and PyTorch take turns, ROUNDS times each, and each reports its
# median round: a shared 2-core machine drifts by 5-10% from second to second.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def unravel_ips(model_path):
    out = subprocess.run([CLI, "eval", "--model", model_path, "--data", DATA, "--limit", str(IMAGES),
                          "--batch", str(BATCH), "--threads", str(THREADS), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["images_per_second"]


def torch_ips(model, x, channels_last):
    m = model.to(memory_format=torch.channels_last) if channels_last else model
    with torch.no_grad():
        for i in range(2):  # warm-up
            m(x[i * BATCH:(i + 1) * BATCH].contiguous(memory_format=torch.channels_last) if channels_last else x[i * BATCH:(i + 1) * BATCH])
        t0 = time.perf_counter()
        for i in range(0, IMAGES, BATCH):
            xb = x[i:i + BATCH]
            m(xb.contiguous(memory_format=torch.channels_last) if channels_last else xb)
        return IMAGES / (time.perf_counter() - t0)


def main():
    torch.set_num_threads(THREADS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        nets = (("ResNet-20", 3, "A"), ("ResNet-56", 9, "A"), ("ResNet-20 B", 3, "B"),
                ("plain-20", 3, "none"))
        for name, n, shortcut in nets:
            path = os.path.join(tmp, f"r{n}{shortcut}")
            subprocess.run([CLI, "init", "--blocks-per-stage", str(n), "--shortcut", shortcut,
                            "--seed", "1", "--out", path], check=True, capture_output=True)
            model, man = load(path + ".json")
            x, _ = cifar_batch(DATA, IMAGES, man["input"]["mean"], man["input"]["std"])
            # Same logits? (unravel folds batch norm; agreement to float rounding)
            logits_path = os.path.join(tmp, "logits.bin")
            subprocess.run([CLI, "eval", "--model", path + ".json", "--data", DATA, "--limit", "200",
                            "--dump-logits", logits_path], check=True, capture_output=True)
            ours = np.fromfile(logits_path, dtype="<f4").reshape(200, 10)
            with torch.no_grad():
                ref = model(x[:200]).numpy()
            diff = float(np.abs(ours - ref).max())
            us, ts = [], []
            for _ in range(ROUNDS):
                us.append(unravel_ips(path + ".json"))
                ts.append(max(torch_ips(model, x, False), torch_ips(model, x, True)))
            rows.append((name, float(np.median(us)), float(np.median(ts)), diff))
    print(f"native inference, batch {BATCH}, {THREADS} threads, {IMAGES} images, median of {ROUNDS} "
          f"alternating rounds, torch {torch.__version__}")
    print(f"{'network':<10} {'unravel img/s':>14} {'PyTorch img/s':>14} {'ratio':>7} {'max |logit diff|':>17}")
    for name, u, t, d in rows:
        print(f"{name:<10} {u:>14.0f} {t:>14.0f} {u / t:>6.2f}x {d:>17.2e}")
    trained_models_agree()


def trained_models_agree(n=1000):
    """Test error of each trained model in models/ by both implementations."""
    import glob
    paths = sorted(p for p in glob.glob(os.path.join(REPO, "models", "*.json"))
                   if not os.path.basename(p).startswith("dev-"))
    if not paths:
        return
    print(f"\ntrained models, first {n} test images (pixel-exact records 0-{n - 1} of the rebuilt set)")
    print(f"{'model':<20} {'unravel error':>14} {'PyTorch error':>14} {'max |logit diff|':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            model, man = load(path)
            x, y = cifar_batch(DATA, n, man["input"]["mean"], man["input"]["std"])
            logits_path = os.path.join(tmp, "logits.bin")
            subprocess.run([CLI, "eval", "--model", path, "--data", DATA, "--limit", str(n),
                            "--dump-logits", logits_path], check=True, capture_output=True)
            ours = np.fromfile(logits_path, dtype="<f4").reshape(n, -1)
            with torch.no_grad():
                ref = model(x).numpy()
            e_ours = float((ours.argmax(1) != y.numpy()).mean())
            e_ref = float((ref.argmax(1) != y.numpy()).mean())
            diff = float(np.abs(ours - ref).max())
            print(f"{os.path.basename(path)[:-5]:<20} {e_ours:>14.4f} {e_ref:>14.4f} {diff:>17.2e}")


if __name__ == "__main__":
    # --trained-only: just the trained-model check (a minute), e.g. after a new model lands
    trained_models_agree() if sys.argv[1:] == ["--trained-only"] else main()
