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
# resnet20 and plain20 share one recipe (50 epochs), so their contrast is
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

train resnet20       --blocks-per-stage 3  --shortcut A    --epochs 50 --seed 1 &&
train plain20        --blocks-per-stage 3  --shortcut none --epochs 50 --seed 1 &&
train resnet110-half --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 80 --seed 1 &&
# Longer runs of the 20-layer pair: 50 epochs left resnet20 at 9.80% on the
# exact records against a 9.5% bar; the same recipe at 100 epochs, for both,
# keeps their contrast fair. They replace resnet20 and plain20 once checked.
# They run before resnet56 resumes because each fits in one working session.
train resnet20-e100  --blocks-per-stage 3  --shortcut A    --epochs 100 --seed 1 &&
train plain20-e100   --blocks-per-stage 3  --shortcut none --epochs 100 --seed 1 &&
train resnet56       --blocks-per-stage 9  --shortcut A    --epochs 80 --seed 1 &&
# The paper's short-path experiment (claim 7): the same network and recipe,
# but each mini-batch trains the residual branches of 23 random blocks only.
train resnet110-half-k23 --blocks-per-stage 18 --widths 8,16,32 --shortcut A --epochs 80 --seed 1 --active-blocks 23
