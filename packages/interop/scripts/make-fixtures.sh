#!/usr/bin/env bash
# Regenerates packages/interop/fixtures with PyTorch 2.13 (+ torchvision, timm, safetensors) and
# TensorFlow 2.21 / Keras 3 from ../shared/peers' environments (`../shared/peers/setup.sh torch tf`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PEERS=${PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/resnet-peers}
out=${1:-$here/../fixtures}
torch_py=$PEERS/torch/bin/python
tf_py=$PEERS/tf/bin/python
[[ -x $torch_py && -x $tf_py ]] || { echo "make-fixtures: run ../shared/peers/setup.sh torch tf first" >&2; exit 1; }
# torchvision and timm are not part of the peer set-up; the local wheel cache holds them.
"$torch_py" -c 'import torchvision, timm, safetensors' 2>/dev/null ||
  "$PEERS/torch/bin/pip" install -q --no-deps torchvision==0.28.0 timm safetensors huggingface_hub pyyaml pillow
"$tf_py" -c 'import safetensors' 2>/dev/null || "$PEERS/tf/bin/pip" install -q safetensors
"$torch_py" "$here/make-fixtures.py" torch "$out"
"$tf_py" "$here/make-fixtures.py" keras "$out"
ls -l "$out"
