#!/usr/bin/env bash
# The training chain behind the shipped generative models and the SRGAN, in order; each stage is
# released with `imagesmith release`. Feature extractors come first: the GAN/VAE recipes log FID
# in their space. THREADS (default 1) leaves a core for other work.
# Usage: tools/train_generation.sh [STAGE...]   (stages: features-fashion dcgan sngan vae
#        features-cifar10 sprites srgan; default: all). Runs go to runs/<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/train_common.sh
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(features-fashion dcgan sngan vae features-cifar10 sprites srgan)

for s in "${stages[@]}"; do
  case $s in
    features-fashion)
      stage features-fashion configs/features/fashion.yaml features-fashion --default ;;
    dcgan) stage dcgan-fashion configs/gan/dcgan-fashion.yaml dcgan-fashion ;;
    sngan) stage sngan-fashion configs/gan/sngan-fashion.yaml gan-fashion --default ;;
    vae) stage vae-fashion configs/vae/vae-fashion.yaml vae-fashion ;;
    features-cifar10)
      stage features-cifar10 configs/features/cifar10.yaml features-cifar10 --default ;;
    sprites)  # local experiment: the sprites' licence does not allow shipping the weights
      stage sprites configs/gan/sprites.yaml gan-sprites --zoo runs/zoo-local -n 817 \
        --allow-small ;;
    srgan) stage srgan-x4 configs/upscale/srgan-x4.yaml upscale-x4-gan ;;
    *) echo "unknown stage $s" >&2; exit 2 ;;
  esac
done
