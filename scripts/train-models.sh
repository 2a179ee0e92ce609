#!/usr/bin/env bash
# Train the shipped models one after another, each resumable: rerun this
# script after an interruption and every model continues from its last
# checkpoint (models/NAME.ckpt, one per finished epoch). Finished models
# (models/NAME.json newer than the checkpoint) are skipped.
#
#   nohup scripts/train-models.sh > models/train.log 2>&1 &
#
# Recipes (see README "Training"): SGD + Nesterov, lr 0.1 with 1 warm-up
# epoch then cosine, batch 128, weight decay 5e-4, crop + flip.
set -u
cd "$(dirname "$0")/.."
make -s build/unravel || exit 1
# A private copy, so rebuilding build/unravel does not touch a running job.
bin=$(mktemp /tmp/unravel-train.XXXXXX)
cp build/unravel "$bin" && chmod +x "$bin"
trap 'rm -f "$bin"' EXIT

train() {  # name, then unravel train options
  local name=$1; shift
  if [ -f "models/$name.json" ] && [ ! "models/$name.ckpt" -nt "models/$name.json" ] \
     && grep -q '"training"' "models/$name.json"; then
    echo "train-models: $name is done"
    return 0
  fi
  echo "train-models: $name: $*"
  "$bin" train "$@" --out "models/$name" --resume || return 1
  node scripts/model-card.mjs "models/$name"
}

train resnet20       --blocks-per-stage 3  --shortcut A    --epochs 50 --seed 1 &&
train plain20        --blocks-per-stage 3  --shortcut none --epochs 50 --seed 1 &&
train resnet110-half --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 50 --seed 1 &&
train resnet56       --blocks-per-stage 9  --shortcut A    --epochs 50 --seed 1
