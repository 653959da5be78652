#!/usr/bin/env bash
# gen-test-certs.sh: makes the certificates that the tests and the README's
# TLS example use, with EC P-256 keys (fast), into the directory given
# (default tests/tls/):
#   ca.crt ca.key            the test CA
#   server.crt server.key    CN tandem-server, SAN 127.0.0.1 and localhost,
#                            usable as server and as client (replication)
#   server-pass.key          the same key encrypted with the passphrase "secret"
#   client.crt client.key    CN tandem-client, a client certificate
# and, for the refusal tests:
#   other-ca.crt             an unrelated CA
#   other.crt other.key      a server/client certificate signed by other-ca
#   selfsigned.crt/.key      a self-signed certificate
#   expired.crt expired.key  signed by the test CA, expired yesterday
set -eu
dir=${1:-tests/tls}
days=3650
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

# sign <name> <cn> <ca> <days> <extensions>
sign() {
  local name=$1 cn=$2 ca=$3 d=$4 ext=$5
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/O=tandem test/CN=$cn" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -days "$d" -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days $days -subj "/O=tandem test/CN=$2" \
    -out "$1.crt" 2>/dev/null
}

server_ext="basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
client_ext="basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

ca ca "tandem test CA"
sign server tandem-server ca $days "$server_ext"
sign client tandem-client ca $days "$client_ext"
sign expired tandem-expired ca -1 "$server_ext"
openssl ec -in server.key -aes256 -passout pass:secret -out server-pass.key 2>/dev/null
chmod 600 server-pass.key

ca other-ca "another CA"
sign other tandem-other other-ca $days "$server_ext"

key selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days $days -subj "/CN=self-signed" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -out selfsigned.crt 2>/dev/null
rm -f ca.srl other-ca.srl other-ca.key
echo "gen-test-certs: certificates in $(pwd)"
