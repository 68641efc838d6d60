#!/usr/bin/env bash
# Full-size ResNet-50 parity: torchvision's and keras.applications' ResNet50 with random weights and
# random batch-norm statistics, converted by this package; prints one JSON line per weight file
# (max |logit difference| over 2 images x 1000 classes). Needs ../shared/peers/setup.sh torch tf and
# `npm run build`; about four minutes on 2 cores (the pure-JS backend runs the 224 px forward passes).   Usage: bash scripts/parity.sh [work dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PEERS=${PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/resnet-peers}
work=${1:-$(mktemp -d)}
"$PEERS/torch/bin/python" "$here/parity.py" torch "$work"
"$PEERS/tf/bin/python" "$here/parity.py" keras "$work" 2> >(grep -v -e absl -e 'oneDNN custom' >&2)
node "$here/parity.mjs" "$work"
