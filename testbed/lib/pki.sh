#!/usr/bin/env bash
# Certificates signed by the test bed CA and kubeconfigs for its API server; sourced by testbed.sh and
# node/node.sh. The caller sets PKI (the folder with ca.crt and ca.key) and PORT_APISERVER.

# issue_cert NAME SUBJECT EXTENSIONS : an ECDSA P-256 key and a certificate signed by the test bed CA.
issue_cert() {
  local name=$1 subj=$2 ext=$3
  [ -f "$PKI/$name.crt" ] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subj" 2>/dev/null \
    || die "openssl could not create the key for $name"
  printf '%s\n' "$ext" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt.tmp" 2>/dev/null \
    || die "openssl could not sign the certificate for $name"
  mv "$PKI/$name.crt.tmp" "$PKI/$name.crt"
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# write_kubeconfig FILE USER CERTNAME : a self-contained kubeconfig (certificates embedded).
write_kubeconfig() {
  local file=$1 user=$2 cert=$3
  [ -f "$file" ] && return 0
  local b64="base64 -w0"
  (umask 077 && cat > "$file.tmp") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: https://127.0.0.1:$PORT_APISERVER
    certificate-authority-data: $($b64 < "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $($b64 < "$PKI/$cert.crt")
    client-key-data: $($b64 < "$PKI/$cert.key")
contexts:
- name: $user@testbed
  context:
    cluster: testbed
    user: $user
    namespace: default
current-context: $user@testbed
EOF
  mv "$file.tmp" "$file"
}

