#!/usr/bin/env bash
# Install the Debian packages the tests and the training need, where missing.
# Needs root (CI runs as root on a fresh Debian machine); elsewhere it names what is missing.
set -euo pipefail
PKGS=(python3-torch python3-numpy python3-onnx python3-sklearn python3-matplotlib python3-msgpack python3-zmq python3-cryptography redis-server chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "os deps: all present (${PKGS[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "os deps: missing Debian packages: ${missing[*]} (run as root: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "os deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "os deps: installed ${missing[*]}"
