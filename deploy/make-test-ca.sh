#!/usr/bin/env bash
# Makes a certificate authority for tests and development, and certificates it signs:
#   deploy/make-test-ca.sh DIR [NAME...]
# writes DIR/ca.pem (the authority's certificate; clients trust it) and DIR/ca.key, then for
# each NAME (default: "localhost") DIR/NAME.pem and DIR/NAME.key, valid for the DNS names
# NAME and localhost and the address 127.0.0.1, for servers and clients alike. Keys are
# P-256, mode 0600. An existing authority in DIR is reused, so names can be added later.
# Not for production: the authority's key sits next to its certificates, unencrypted.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [NAME...]" >&2
  exit 2
fi
dir=$1
shift
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(localhost)
umask 077
mkdir -p "$dir"
if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=troupe test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
fi
for name in "${names[@]}"; do
  case $name in
    *[!A-Za-z0-9.-]* | "") echo "$0: '$name' is not a host name" >&2; exit 2 ;;
  esac
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 825 -out "$dir/$name.pem" \
    -extfile <(printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$name") \
    2>/dev/null
  rm -f "$dir/$name.csr"
done
chmod 600 "$dir"/*.key
chmod 644 "$dir"/*.pem
