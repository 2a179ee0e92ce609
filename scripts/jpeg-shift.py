#!/usr/bin/env python3
"""jpeg-shift.py: how much of a model's error on the rebuilt test set is JPEG?

The rebuilt CIFAR-10 test set holds records 0-999 pixel-exact and the other
9,000 decoded from JPEG copies (quality about 75). Those are different images,
so the two error rates mix two effects. This script isolates the JPEG one on
the same images: it round-trips the exact records 0-999 through JPEG at each
quality asked (Pillow's encoder, its default 4:2:0 chroma subsampling), writes
each version as a test_batch.bin in a temporary folder, and has `unravel eval`
measure every model on the exact records and on each JPEG version.

The mean absolute pixel difference of each version from the exact images is
printed beside it: the dataset's README gives about 5.8 for its JPEG copies
(on a 0-255 scale), which tells which quality matches them. Since both
versions are the same images, the answers the JPEG turned from right to
wrong and from wrong to right are counted too (-R +W after each error), and
give the 95% interval of the change, paired image by image (+-).

  python3 scripts/jpeg-shift.py [--models resnet20,plain20] [--quality 75,90]
                                [--cifar DIR] [--json OUT.json]
Needs Pillow (Debian: python3-pil) and build/unravel.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

RECORD = 3073
EXACT = 1000  # test records 0-999 are pixel-exact (the dataset's README)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def paired_ci95(n, wrong, right):
    """Half-width of the 95% interval of a paired change of error (the formula
    of unr_paired_ci95 in c/net.c): n images, w answers turned wrong, r right."""
    d = wrong - right
    variance = (wrong + right - d * d / n) / (n - 1) if n > 1 else 0.0
    return 1.96 * (variance / max(1, n)) ** 0.5


def jpeg_round_trip(records, quality):
    """records: uint8 [n, 3073] (label, R, G, B planes); the same, its pixels
    through a JPEG encode and decode."""
    from PIL import Image  # imported here so --help works without Pillow
    out = records.copy()
    for i, rec in enumerate(records):
        hwc = rec[1:].reshape(3, 32, 32).transpose(1, 2, 0)
        buf = io.BytesIO()
        Image.fromarray(hwc, 'RGB').save(buf, format='JPEG', quality=quality)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert('RGB'))
        out[i, 1:] = back.transpose(2, 0, 1).reshape(-1)
    return out


def trained_models():
    """Manifests in models/ with a training record, by name."""
    folder = os.path.join(ROOT, 'models')
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith('.json') and not name.startswith('dev-'):
            with open(os.path.join(folder, name)) as f:
                if 'training' in json.load(f):
                    out.append(os.path.join(folder, name))
    return out


def evaluate(model, folder):
    """(error, right[n] as booleans) of `unravel eval` on the folder's images."""
    cli = os.path.join(ROOT, 'build', 'unravel')
    logits_file = os.path.join(folder, 'logits.f32')
    res = subprocess.run([cli, 'eval', '--model', model, '--data', folder, '--split', 'test',
                          '--limit', str(EXACT), '--json', '--dump-logits', logits_file],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f'jpeg-shift: unravel eval {model} on {folder} failed: {res.stderr.strip()}')
    logits = np.fromfile(logits_file, '<f4').reshape(EXACT, 10)
    labels = np.frombuffer(open(os.path.join(folder, 'test_batch.bin'), 'rb').read(), np.uint8)[::RECORD]
    right = logits.argmax(axis=1) == labels[:EXACT]
    error = json.loads(res.stdout)['error']
    if abs((1 - right.mean()) - error) > 1e-9:
        sys.exit(f'jpeg-shift: {model}: the dumped logits give error {1 - right.mean()}, eval said {error}')
    return error, right


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--models', help='names in models/ or paths to manifests, comma-separated '
                    '(default: every trained model in models/)')
    ap.add_argument('--quality', default='75,90', help='JPEG qualities, comma-separated')
    ap.add_argument('--cifar', default=os.environ.get('CIFAR10_DIR', os.path.join(ROOT, 'data', 'cifar10')))
    ap.add_argument('--json', help='also write the results here')
    a = ap.parse_args()

    try:
        qualities = [int(q) for q in a.quality.split(',')]
    except ValueError:
        sys.exit(f'jpeg-shift: --quality: {a.quality!r} is not a list of whole numbers')
    if any(not 1 <= q <= 100 for q in qualities):
        sys.exit(f'jpeg-shift: --quality: {a.quality} has a value outside 1..100')
    models = [m if m.endswith('.json') else os.path.join(ROOT, 'models', m + '.json')
              for m in a.models.split(',')] if a.models else trained_models()
    if not models:
        sys.exit('jpeg-shift: no trained models in models/ (name some with --models)')
    for m in models:
        if not os.path.isfile(m):
            sys.exit(f'jpeg-shift: {m}: no such model manifest')

    src = os.path.join(a.cifar, 'test_batch.bin')
    try:
        with open(src, 'rb') as f:
            raw = f.read(EXACT * RECORD)
    except OSError as e:
        sys.exit(f'jpeg-shift: {src}: {e.strerror}')
    if len(raw) != EXACT * RECORD:
        sys.exit(f'jpeg-shift: {src}: {len(raw)} bytes, expected at least {EXACT * RECORD} '
                 f'({EXACT} records)')
    exact = np.frombuffer(raw, np.uint8).reshape(EXACT, RECORD)
    versions = [{'quality': None, 'records': exact}]
    for q in qualities:
        versions.append({'quality': q, 'records': jpeg_round_trip(exact, q)})

    rows, exact_right = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for v in versions:
            folder = os.path.join(tmp, f'q{v["quality"] or "exact"}')
            os.mkdir(folder)
            v['records'].tofile(os.path.join(folder, 'test_batch.bin'))
            diff = np.abs(v['records'][:, 1:].astype(np.int16) - exact[:, 1:].astype(np.int16))
            v['mad'] = float(diff.mean())
            v['errors'], v['flips'] = {}, {}
            for m in models:
                name = os.path.basename(m)[:-5]
                v['errors'][name], right = evaluate(m, folder)
                if v['quality'] is None:
                    exact_right[name] = right
                # the same images both ways: which answers the JPEG changed
                w = int((exact_right[name] & ~right).sum())
                r = int((~exact_right[name] & right).sum())
                v['flips'][name] = {'right_to_wrong': w, 'wrong_to_right': r,
                                    'ci95': paired_ci95(len(right), w, r)}
            label = 'exact' if v['quality'] is None else f'JPEG q{v["quality"]}'
            print(f'{label:>9}  mean |pixel difference| {v["mad"]:5.2f}  ' +
                  '  '.join(f'{n} {100 * e:5.2f}% (-{f["right_to_wrong"]} +{f["wrong_to_right"]}, '
                            f'change +-{100 * f["ci95"]:.2f})'
                            for (n, e), f in zip(v['errors'].items(), v['flips'].values())), flush=True)
            rows.append({k: v[k] for k in ('quality', 'mad', 'errors', 'flips')})
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'images': f'test records 0-{EXACT - 1}', 'encoder': 'Pillow, default subsampling',
                       'versions': rows}, f, indent=2)
            f.write('\n')


if __name__ == '__main__':
    main()
