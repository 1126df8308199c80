#!/usr/bin/env bash
# The training chain behind the shipped generative models, in order (each model's card records
# its own command). Feature extractors come first: the GAN/VAE recipes log FID in their space.
# THREADS (default 1) leaves a core for other work while a run trains in the background.
# Usage: tools/train_generation.sh [STAGE...]   (stages: features-fashion dcgan sngan vae
#        features-cifar10 sprites srgan; default: all). Runs go to runs/<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/train_common.sh
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(features-fashion dcgan sngan vae features-cifar10 sprites srgan)

for stage in "${stages[@]}"; do
  case $stage in
    features-fashion)
      train features-fashion configs/features/fashion.yaml
      $PY tools/release_generative.py runs/features-fashion features-fashion --default \
        --command "imagesmith train configs/features/fashion.yaml" ;;
    dcgan)
      train dcgan-fashion configs/gan/dcgan-fashion.yaml
      $PY tools/release_generative.py runs/dcgan-fashion dcgan-fashion --half \
        --command "imagesmith train configs/gan/dcgan-fashion.yaml" ;;
    sngan)
      train sngan-fashion configs/gan/sngan-fashion.yaml
      $PY tools/release_generative.py runs/sngan-fashion gan-fashion --default --half \
        --command "imagesmith train configs/gan/sngan-fashion.yaml" ;;
    vae)
      train vae-fashion configs/vae/vae-fashion.yaml
      $PY tools/release_generative.py runs/vae-fashion vae-fashion \
        --command "imagesmith train configs/vae/vae-fashion.yaml" ;;
    features-cifar10)
      train features-cifar10 configs/features/cifar10.yaml
      $PY tools/release_generative.py runs/features-cifar10 features-cifar10 --default \
        --command "imagesmith train configs/features/cifar10.yaml" ;;
    sprites)
      train sprites configs/gan/sprites.yaml
      $PY tools/release_generative.py runs/sprites gan-sprites --nearest-sheet -n 817 --allow-small \
        --command "imagesmith train configs/gan/sprites.yaml" ;;
    srgan)
      train srgan-x4 configs/upscale/srgan-x4.yaml
      $PY tools/release_model.py runs/srgan-x4 upscale-x4-gan \
        --command "imagesmith train configs/upscale/srgan-x4.yaml" ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
