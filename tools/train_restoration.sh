#!/usr/bin/env bash
# The training chain behind the shipped denoisers, JPEG artefact remover and inpainter, in order
# (each model's card records its own command). A stage whose runs/<name>/model exists is skipped;
# one with a checkpoint but no model is resumed exactly.
# Usage: tools/train_restoration.sh [STAGE...]   (stages: denoise-color denoise-gray dejpeg
#        gray-ft gray-ft2 gray-ft3 gray-grow gray-grow2 gray-grow3 inpaint
#        inpaint-textured inpaint-textured-ft;
#        default: all). gray-ft continues denoise-gray from its weights, gray-ft2 continues
#        gray-ft, gray-ft3 continues gray-ft2, gray-grow grows gray-ft3 into a deeper net
#        and gray-grow2 and gray-grow3 each grow that once more;
#        each re-releases it as denoise-gray; inpaint-textured-ft likewise
#        continues and re-releases inpaint-ffc-s-textured: compare the cards before committing.
#        inpaint-coarse-probe (not in the default list) trains a probe that was not shipped.
#        The inpaint-textured stages use both cores (a data-loader worker).
#        THREADS (default 1: leave a core for other work).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/train_common.sh
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(denoise-color denoise-gray dejpeg gray-ft gray-ft2 gray-ft3 gray-grow gray-grow2 gray-grow3 inpaint inpaint-textured inpaint-textured-ft)

# The card's history paragraph (the release tool measures only the last stage; the earlier
# stages' numbers are from their own cards in the git history).
GRAY_EARLY="\`gray.yaml\` 8000 steps x 16 crops of 64 px, L1, lr 5e-4, 65.2 min, BSD68 sigma 25
29.07 dB; \`gray-ft.yaml\` 8000 x 16 x 64 px, L1, lr 2.5e-4, 64.4 min, 29.12 dB; \`gray-ft2.yaml\`
8000 x 8 x 96 px, L1, lr 2.5e-4, 71.6 min, 29.15 dB (29.146);"
GRAY_FT3="\`gray-ft3.yaml\` 6000 x 8 x 96 px, squared error, lr 1e-4, 50.8 min, 29.17 dB (29.173)"
GRAY_GROW="\`gray-grow.yaml\` grows the net to \`restore-unet-s-deep\` (2/3/5 blocks per level,
the new blocks starting as identities), 8000 x 8 x 96 px, squared error, lr 2e-4, 93.2 min,
29.20 dB (29.197)"
GRAY_GROW2="\`gray-grow2.yaml\` grows it again (3/4/6 blocks, 2.6M parameters, the new blocks
starting as identities), 8000 x 8 x 96 px, squared error, lr 2e-4, 121.1 min, 29.22 dB (29.218)"
GRAY_GROW3="\`gray-grow3.yaml\` grows it once more (3/5/7 blocks, 3.0M
parameters), 7000 x 8 x 96 px, squared error,
lr 2e-4, 71.1 min (the first 250 steps on one core, the rest on two), 29.23 dB (29.233)"
# gray_history COUNT STAGES MINUTES: the paragraph for a card whose last stage ends STAGES.
gray_history() {
  printf '\nTraining history (%s stages, each starting from the previous stage'"'"'s weights; the\nearlier stages'"'"' numbers are from their own cards in the git history): %s %s (this card). All\non the same machine, one core unless noted, %s min in total.' "$1" "$GRAY_EARLY" "$2" "$3"
}

for stage in "${stages[@]}"; do
  case $stage in
    denoise-color)
      train denoise-color configs/denoise/color.yaml
      $PY tools/release_restore.py runs/denoise-color denoise-color --default \
        --command "imagesmith train configs/denoise/color.yaml" ;;
    denoise-gray)
      train denoise-gray configs/denoise/gray.yaml
      $PY tools/release_restore.py runs/denoise-gray denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml" ;;
    dejpeg)
      train dejpeg-color configs/dejpeg/color.yaml
      $PY tools/release_restore.py runs/dejpeg-color dejpeg-color --default \
        --command "imagesmith train configs/dejpeg/color.yaml" ;;
    gray-ft)
      train denoise-gray-ft configs/denoise/gray-ft.yaml
      $PY tools/release_restore.py runs/denoise-gray-ft denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml" ;;
    gray-ft2)
      train denoise-gray-ft2 configs/denoise/gray-ft2.yaml
      $PY tools/release_restore.py runs/denoise-gray-ft2 denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml && imagesmith train configs/denoise/gray-ft2.yaml" ;;
    gray-ft3)
      train denoise-gray-ft3 configs/denoise/gray-ft3.yaml
      $PY tools/release_restore.py runs/denoise-gray-ft3 denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml && imagesmith train configs/denoise/gray-ft2.yaml && imagesmith train configs/denoise/gray-ft3.yaml" \
        --notes "$(gray_history four "$GRAY_FT3" 252)" ;;
    gray-grow)
      train denoise-gray-grow configs/denoise/gray-grow.yaml
      $PY tools/release_restore.py runs/denoise-gray-grow denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml && imagesmith train configs/denoise/gray-ft2.yaml && imagesmith train configs/denoise/gray-ft3.yaml && imagesmith train configs/denoise/gray-grow.yaml" \
        --notes "$(gray_history five "$GRAY_FT3; $GRAY_GROW" 345)" ;;
    gray-grow2)
      train denoise-gray-grow2 configs/denoise/gray-grow2.yaml
      $PY tools/release_restore.py runs/denoise-gray-grow2 denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml && imagesmith train configs/denoise/gray-ft2.yaml && imagesmith train configs/denoise/gray-ft3.yaml && imagesmith train configs/denoise/gray-grow.yaml && imagesmith train configs/denoise/gray-grow2.yaml" \
        --notes "$(gray_history six "$GRAY_FT3; $GRAY_GROW; $GRAY_GROW2" 466)" ;;
    gray-grow3)
      train denoise-gray-grow3 configs/denoise/gray-grow3.yaml
      $PY tools/release_restore.py runs/denoise-gray-grow3 denoise-gray --default \
        --command "imagesmith train configs/denoise/gray.yaml && imagesmith train configs/denoise/gray-ft.yaml && imagesmith train configs/denoise/gray-ft2.yaml && imagesmith train configs/denoise/gray-ft3.yaml && imagesmith train configs/denoise/gray-grow.yaml && imagesmith train configs/denoise/gray-grow2.yaml && imagesmith train configs/denoise/gray-grow3.yaml" \
        --notes "$(gray_history seven "$GRAY_FT3; $GRAY_GROW; $GRAY_GROW2; $GRAY_GROW3" 537)" ;;
    inpaint)
      train inpaint-ffc-s configs/inpaint/ffc-s.yaml
      $PY tools/release_inpaint.py runs/inpaint-ffc-s inpaint-ffc-s \
        --command "imagesmith train configs/inpaint/ffc-s.yaml" ;;
    inpaint-textured)
      train inpaint-ffc-s-textured configs/inpaint/ffc-s-textured.yaml
      $PY tools/release_inpaint.py runs/inpaint-ffc-s-textured inpaint-ffc-s-textured --default \
        --command "imagesmith train configs/inpaint/ffc-s-textured.yaml" ;;
    inpaint-textured-ft)
      train inpaint-ffc-s-textured-ft configs/inpaint/ffc-s-textured-ft.yaml
      # Shipped on the ramped textured prefill it was not trained on (measured better: its card)
      $PY tools/release_inpaint.py runs/inpaint-ffc-s-textured-ft inpaint-ffc-s-textured --default \
        --prefill textured-ramp \
        --command "imagesmith train configs/inpaint/ffc-s-textured.yaml && imagesmith train configs/inpaint/ffc-s-textured-ft.yaml && python tools/release_inpaint.py runs/inpaint-ffc-s-textured-ft inpaint-ffc-s-textured --default --prefill textured-ramp" ;;
    inpaint-coarse-probe)
      # Not shipped (docs/BENCHMARKS.md, "Coarse-structure probe"): trains, then scores the
      # two-scale model on the held-out validation images beside harmonic and exemplar.
      train inpaint-ffc-s-coarse-probe configs/inpaint/ffc-s-coarse-probe.yaml
      $PY tools/two_scale_model.py runs/inpaint-ffc-s-coarse-probe/model runs/coarse-probe-2scale --downscale 3
      $PY benchmarks/inpaint.py --validation --threads "$THREADS" \
        --methods harmonic exemplar runs/coarse-probe-2scale ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
