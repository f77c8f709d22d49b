#!/usr/bin/env bash
# Installs every Debian package genie needs to build, test and run. Idempotent: installs
# only what is missing, and runs apt-get update only when something is. Works as root on a
# fresh Debian 12 machine (or with sudo). Extra packages may be named as arguments.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git python3 procps
  libzmq3-dev libczmq-dev libsodium-dev libmsgpack-dev libleveldb-dev
  libmicrohttpd-dev libjansson-dev libcurl4-gnutls-dev
  libhts-dev liblbfgs-dev libopenblas-serial-dev libblas-dev libseccomp-dev python3-sklearn
  clang libclang-rt-14-dev  # scripts/fuzz.sh (libFuzzer)
  clang-format clang-tidy cppcheck  # scripts/lint.sh
  # (libhts-dev needs libcurl4-gnutls-dev, which conflicts with libcurl4-openssl-dev)
  "$@"
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
