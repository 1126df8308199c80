#!/usr/bin/env bash
# The training chain behind the shipped denoisers, JPEG artefact remover and inpainters, in order.
# A stage whose runs/<name>/model exists is not retrained; one with a checkpoint but no model is
# resumed exactly. Each stage is released with `imagesmith release`, which measures the card and
# carries the training history along the chain (each gray stage starts from the previous one).
# Usage: tools/train_restoration.sh [STAGE...]
#   stages: denoise-color denoise-gray dejpeg gray-ft gray-ft2 gray-ft3 gray-grow gray-grow2
#           gray-grow3 inpaint inpaint-textured inpaint-textured-ft (default: all);
#           inpaint-coarse-probe (not in the default list) trains a probe that was not shipped.
#   The inpaint-textured stages use both cores (a data-loader worker).
#   THREADS (default 1: leave a core for other work).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/train_common.sh
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(denoise-color denoise-gray dejpeg gray-ft gray-ft2 gray-ft3 gray-grow gray-grow2 gray-grow3 inpaint inpaint-textured inpaint-textured-ft)

for s in "${stages[@]}"; do
  case $s in
    denoise-color) stage denoise-color configs/denoise/color.yaml denoise-color --default ;;
    denoise-gray) stage denoise-gray configs/denoise/gray.yaml denoise-gray --default ;;
    dejpeg) stage dejpeg-color configs/dejpeg/color.yaml dejpeg-color --default ;;
    gray-ft) stage denoise-gray-ft configs/denoise/gray-ft.yaml denoise-gray --default ;;
    gray-ft2) stage denoise-gray-ft2 configs/denoise/gray-ft2.yaml denoise-gray --default ;;
    gray-ft3) stage denoise-gray-ft3 configs/denoise/gray-ft3.yaml denoise-gray --default ;;
    gray-grow) stage denoise-gray-grow configs/denoise/gray-grow.yaml denoise-gray --default ;;
    gray-grow2) stage denoise-gray-grow2 configs/denoise/gray-grow2.yaml denoise-gray --default ;;
    gray-grow3) stage denoise-gray-grow3 configs/denoise/gray-grow3.yaml denoise-gray --default ;;
    inpaint) stage inpaint-ffc-s configs/inpaint/ffc-s.yaml inpaint-ffc-s ;;
    inpaint-textured)
      stage inpaint-ffc-s-textured configs/inpaint/ffc-s-textured.yaml inpaint-ffc-s-textured \
        --default ;;
    inpaint-textured-ft)
      # Shipped on the ramped textured prefill it was not trained on (measured better: its card).
      stage inpaint-ffc-s-textured-ft configs/inpaint/ffc-s-textured-ft.yaml \
        inpaint-ffc-s-textured --default --arch-arg prefill=textured-ramp ;;
    inpaint-coarse-probe)
      # Not shipped (docs/BENCHMARKS.md, "Coarse-structure probe"): trains, then scores the
      # two-scale model on the held-out validation images beside harmonic and exemplar.
      train inpaint-ffc-s-coarse-probe configs/inpaint/ffc-s-coarse-probe.yaml
      $PY tools/two_scale_model.py runs/inpaint-ffc-s-coarse-probe/model runs/coarse-probe-2scale --downscale 3
      $PY benchmarks/inpaint.py --validation --threads "$THREADS" \
        --methods harmonic exemplar runs/coarse-probe-2scale ;;
    *) echo "unknown stage $s" >&2; exit 2 ;;
  esac
done
