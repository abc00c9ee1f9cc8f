#!/usr/bin/env bash
# Installs the Debian packages troupe needs to build and test. Idempotent: does nothing
# when everything is present. Without root it prints the exact command and stops.
set -euo pipefail
packages=(cmake ninja-build g++ make ccache pkg-config
          libcaf-dev libboost1.81-dev catch2 nlohmann-json3-dev libsqlite3-dev
          libssl-dev openssl prometheus prometheus-cpp-dev libcpp-jwt-dev libgoogle-perftools-dev)
[ "${1:-}" = "--bench" ] && packages+=(wrk)
[ "${1:-}" = "--fuzz" ] && packages+=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "troupe: missing Debian packages: ${missing[*]}" >&2
  echo "troupe: run as root:  $cmd" >&2
  exit 1
fi
echo "troupe: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
