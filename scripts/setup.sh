#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Ubuntu machine for resnet-ts, from the repository root:
# system packages (C++ toolchain, python3, oneDNN) with apt as root or through sudo, then
# `npm ci && npm run build`, then `resnet doctor` to show what the commands will run on.
# Safe to run again: it installs only what is missing and the build skips up-to-date work.
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node's postinstall (blocked by npm 11 anyway) would fetch CUDA extras from a host this network does not reach.
export ONNXRUNTIME_NODE_INSTALL=skip

say() { printf 'setup: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 1
}

# Node: every package's `engines` (undici 7 needs 20.18.1). Debian 12's own nodejs is 18: too old.
required_node=20.18.1
if ! command -v node >/dev/null 2>&1; then
  fail "Node.js is not installed. Install Node ${required_node} or newer, e.g. with nvm (curl -o- https://raw.githubusercontent.com/nvm-sh/nvm/v0.40.3/install.sh | bash && nvm install 20) or from https://nodejs.org (Debian 12's own nodejs package is 18, too old), then run this again."
fi
node_version=$(node -p 'process.versions.node')
if ! node -e "const [a,b,c]=process.versions.node.split('.').map(Number),[x,y,z]='${required_node}'.split('.').map(Number);process.exit(a!==x?(a>x?0:1):b!==y?(b>y?0:1):c>=z?0:1)"; then
  fail "Node ${node_version} is too old: install Node ${required_node} or newer (nvm install 20, or https://nodejs.org; Debian 12's own nodejs is 18), then run this again."
fi

# System packages: g++ and make (native addons), python3 (node-gyp), oneDNN (the fast CPU backend).
packages=(g++ make python3 libdnnl-dev)
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
else
  say "not a Debian/Ubuntu system: install a C++ compiler, make, python3 and oneDNN (DNNL_ROOT=<prefix> if not under /usr) yourself"
fi
if [ "${#missing[@]}" -gt 0 ]; then
  install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive "${install[@]}"
  elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    say "installing ${missing[*]} with sudo"
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive "${install[@]}"
  else
    fail "missing system packages: ${missing[*]}. Run as root: apt-get update && ${install[*]} -- then run this script again."
  fi
fi

say "npm ci"
npm ci --no-audit --no-fund
say "npm run build"
npm run build
npx resnet doctor
