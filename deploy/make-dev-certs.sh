#!/usr/bin/env bash
# Certificates for Orleans' mutual TLS (Kyros:Tls, docs/security.md), made offline with openssl:
#   deploy/make-dev-certs.sh [directory]      (default deploy/tls)
# It writes
#   ca/ca.crt, ca/ca.key          the cluster's CA: keep ca.key off every machine that runs a silo or a client
#   silo/tls.crt, tls.key, ca.crt what each silo mounts (compose: ./tls/silo; Kubernetes: the Secret kyros-tls)
#   client/tls.crt, tls.key, ca.crt   what an SDK client or kyros-perf gives as Kyros:Tls (or --tls-cert/--tls-key/--tls-ca)
# An existing CA is kept, so running it again issues new silo and client certificates that the running cluster still
# trusts (rotation: restart each silo with the new files). Delete ca/ to start over with a new CA.
# Kubernetes: kubectl -n kyros-perf create secret generic kyros-tls --from-file=deploy/tls/silo
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/deploy/tls}"
days="${KYROS_CERT_DAYS:-365}"
command -v openssl >/dev/null || { echo "openssl is missing: apt-get install -y openssl" >&2; exit 1; }
mkdir -p "$out/ca" "$out/silo" "$out/client"
chmod 700 "$out/ca"

if [ ! -f "$out/ca/ca.key" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca/ca.key"
  openssl req -x509 -new -key "$out/ca/ca.key" -sha256 -days $((days * 3)) -subj "/CN=kyros-perf-ca" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca/ca.crt"
  chmod 600 "$out/ca/ca.key"
fi

# One certificate for both ends of a connection: a silo accepts connections (server) and opens them to other silos
# (client). Its name is not checked (silos reach each other by IP address); the CA's signature is what counts.
issue() {
  local role="$1" dir="$out/$1"
  local extensions
  extensions="$(mktemp)"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:kyros-perf-%s\n' "$role" >"$extensions"
  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$dir/tls.key"
  openssl req -new -key "$dir/tls.key" -subj "/CN=kyros-perf-$role" -out "$dir/tls.csr"
  openssl x509 -req -in "$dir/tls.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" -CAcreateserial -sha256 -days "$days" \
    -extfile "$extensions" -out "$dir/tls.crt" 2>/dev/null
  rm -f "$dir/tls.csr" "$extensions"
  cp "$out/ca/ca.crt" "$dir/ca.crt"
  # Readable by the silo image's user (UID 1654) through compose's bind mount; in production the key comes from a Secret.
  chmod 644 "$dir/tls.key"
}
issue silo
issue client
echo "CA, silo and client certificates in $out (CA until $(openssl x509 -in "$out/ca/ca.crt" -noout -enddate | cut -d= -f2))"
