#!/usr/bin/env bash
# `make demo`: train MagicPoint on synthetic shapes for a few minutes, evaluate it on synthetic test
# images, detect keypoints on the shared HPatches sequences, match and evaluate HPatches pairs with
# the SuperPoint kpt ships, and say where everything is.
# Everything goes under demo-out/ (DEMO_OUT). Expects build/bin/kpt (the Makefile builds it).
#
#   DEMO_STEPS   training steps (default 150: about 5 minutes on 2 cores, 1.8 s a step)
#   BUILD_DIR    the build folder (default build)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
OUT=${DEMO_OUT:-demo-out}
STEPS=${DEMO_STEPS:-150}
KPT="$BUILD_DIR/bin/kpt"
HPATCHES=../shared/data/hpatches

[ -x "$KPT" ] || { echo "demo: $KPT is not built (run make demo)" >&2; exit 1; }
start=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. Train MagicPoint on synthetic shapes ($STEPS steps of 16 images at 120x160)"
"$KPT" train --model magicpoint --out "$OUT/run" --steps "$STEPS" --batch-size 16 --canvas 480x640 \
  --checkpoint-every 100 --log-every 10
cp "$OUT/run/weights.safetensors" "$OUT/magicpoint.safetensors"
"$KPT" plot "$OUT/run" --out "$OUT/loss.svg"

echo "== 2. Evaluate on 200 synthetic test images (a seed training never uses)"
"$KPT" synth --out "$OUT/synthetic-test" --count 200 --seed 4242424242 > /dev/null
"$KPT" eval-synth --images "$OUT/synthetic-test" --model magicpoint --weights "$OUT/magicpoint.safetensors" \
  --json "$OUT/metrics-synthetic.json"

SHIPPED=models/magicpoint-shapes.safetensors   # kpt-trained, 2,859 steps (models/README.md)
if [ -f "$SHIPPED" ]; then
  echo "== 2b. The same evaluation for the MagicPoint kpt ships (trained longer by kpt, models/README.md)"
  "$KPT" eval-synth --images "$OUT/synthetic-test" --model magicpoint --weights "$SHIPPED" \
    --json "$OUT/metrics-synthetic-shipped.json"
fi

echo "== 3. Detect keypoints on pictures"
mkdir -p "$OUT/synthetic-pictures"
for i in 0 1 2 3 4 5 6 7; do cp "$OUT/synthetic-test/$i.png" "$OUT/synthetic-pictures/"; done
"$KPT" detect --model magicpoint --weights "$OUT/magicpoint.safetensors" --input "$OUT/synthetic-pictures" \
  --output "$OUT/synthetic-detections" --draw --threshold 0.015
if [ -d "$HPATCHES" ]; then
  "$KPT" detect --model magicpoint --weights "$OUT/magicpoint.safetensors" --input "$HPATCHES" \
    --output "$OUT/hpatches-detections" --size 240x320 --draw --top-k 300
  [ -f "$SHIPPED" ] && "$KPT" detect --model magicpoint --weights "$SHIPPED" --input "$HPATCHES" \
    --output "$OUT/hpatches-detections-shipped" --size 240x320 --draw --top-k 300
else
  echo "demo: $HPATCHES not found; skipping the HPatches pictures"
fi

SHIPPED_SP=models/superpoint-photos.safetensors   # kpt-trained on photos (models/README.md)
if [ -d "$HPATCHES" ] && [ -f "$SHIPPED_SP" ]; then
  echo "== 4. Match HPatches pairs with the SuperPoint kpt ships, and its HPatches metrics (240x320)"
  # MagicPoint has no descriptor: matching needs SuperPoint. The shipped one was trained by kpt on
  # photos labelled by kpt adapt with the shipped MagicPoint; never on HPatches.
  mkdir -p "$OUT/matches"
  for pair in v_dogman/2 v_dogman/4 i_pool/2 i_pool/4; do
    seq=${pair%/*} k=${pair#*/}
    "$KPT" match "$HPATCHES/$seq/1.ppm" "$HPATCHES/$seq/$k.ppm" --model superpoint --weights "$SHIPPED_SP" \
      --size 240x320 --homography "$HPATCHES/$seq/H_1_$k" --out "$OUT/matches/$seq-1-$k.png" \
      --json "$OUT/matches/$seq-1-$k.json"
  done
  "$KPT" eval --model superpoint --weights "$SHIPPED_SP" --hpatches "$HPATCHES" --size 240x320 \
    --json "$OUT/metrics-hpatches.json"
fi

echo
echo "demo: done in $(( $(date +%s) - start )) s"
echo "  weights          $OUT/magicpoint.safetensors   (kpt detect --model magicpoint --weights ...)"
echo "  training log     $OUT/run/log.jsonl   (curves: $OUT/loss.svg)"
echo "  metrics          $OUT/metrics-synthetic.json"
[ -f "$OUT/metrics-synthetic-shipped.json" ] && echo "                   $OUT/metrics-synthetic-shipped.json   (the shipped MagicPoint)"
echo "  pictures         $OUT/synthetic-detections/*.kpts.png"
[ -d "$OUT/hpatches-detections" ] && echo "                   $OUT/hpatches-detections/*/*.kpts.png"
[ -d "$OUT/hpatches-detections-shipped" ] && echo "                   $OUT/hpatches-detections-shipped/*/*.kpts.png   (the shipped MagicPoint)"
[ -d "$OUT/matches" ] && echo "  matches          $OUT/matches/*.png   (the shipped SuperPoint; metrics: $OUT/metrics-hpatches.json)"
exit 0
