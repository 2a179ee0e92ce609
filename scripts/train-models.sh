#!/usr/bin/env bash
# Train the shipped models one after another, each resumable: rerun this
# script after an interruption and every model continues from its last
# checkpoint (models/NAME.ckpt, one per finished epoch). Finished models
# (models/NAME.json newer than the checkpoint) are skipped.
#
#   nohup scripts/train-models.sh > models/train.log 2>&1 &
#
# Recipes (see docs/CLI.md "Training"): SGD + Nesterov, lr 0.1 with 1 warm-up
# epoch then cosine, batch 128, weight decay 5e-4, crop + flip.
# resnet20 and plain20 share one recipe (100 epochs), so their contrast is
# fair; the deep models get 80 epochs (about 5.3 h and 6 h on 2 cores).
set -u
cd "$(dirname "$0")/.."
make -s build/unravel || exit 1
# A private copy per model, so rebuilding build/unravel does not touch a
# running job, and the next model starts with the newest build.
bin=$(mktemp /tmp/unravel-train.XXXXXX)
trap 'rm -f "$bin"' EXIT

train() {  # name, then unravel train options
  local name=$1; shift
  if [ -f "models/$name.json" ] && [ ! "models/$name.ckpt" -nt "models/$name.json" ] \
     && grep -q '"training"' "models/$name.json"; then
    echo "train-models: $name is done"
    return 0
  fi
  echo "train-models: $name: $*"
  cp build/unravel "$bin" && chmod +x "$bin" || return 1
  "$bin" train "$@" --out "models/$name" --resume || return 1
  node scripts/model-card.mjs "models/$name"
}

# (The 20-layer pair first ran 50 epochs: resnet20 12.22% / 9.80%, plain20
# 13.92% / 11.50%; 100 epochs gave resnet20 11.63% / 9.60%.)
train resnet20       --blocks-per-stage 3  --shortcut A    --epochs 100 --seed 1 &&
train plain20        --blocks-per-stage 3  --shortcut none --epochs 100 --seed 1 &&
train resnet110-half --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 80 --seed 1 &&
train resnet56       --blocks-per-stage 9  --shortcut A    --epochs 80 --seed 1 &&
# The paper's short-path experiment (claim 7): the same network and recipe,
# but each mini-batch trains the residual branches of 23 random blocks only.
train resnet110-half-k23 --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 80 --seed 1 --active-blocks 23 &&
# Claim 7 at equal compute (issue 19): a step with 23 of 54 blocks active costs
# about half a full step, so 160 epochs of it cost about the twin's 80.
train resnet110-half-k23-e160 --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 160 --seed 1 --active-blocks 23
