#!/usr/bin/env bash
# Installs every Debian package kpt needs to build, test and benchmark. A quick no-op when all
# are present. Uses sudo when not run as root.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --torch    also python3-torch and python3-numpy (fixture scripts,
#                                      PyTorch comparisons; CI does not need them)
set -euo pipefail

packages=(
  cmake make g++ git
  libxtensor-dev libxsimd-dev libeigen3-dev libtbb-dev
  libboost-test-dev libbenchmark-dev libstb-dev nlohmann-json3-dev
)
if [[ "${1:-}" == "--torch" ]]; then
  packages+=(python3-torch python3-numpy python3-opencv)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
