#!/usr/bin/env bash
# Compares the property names the built tls and random plugins use with those the @pulumi/tls and
# @pulumi/random npm SDKs send (check-names.py does the comparing):
#   check-names.sh [--all]
# Without --all only the tokens groundwork uses and the differing ones are listed. Exit status 1
# when a token groundwork uses has an input the plugin does not know or that is an array on one
# side only, beyond the known drift below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
ALL=0
[[ "${1:-}" != --all ]] || ALL=1

# Tokens groundwork's components create (components/cluster/secrets.ts, components/registry/tls.ts).
declare -A USED=(
  [tls]="tls tls:index/privateKey:PrivateKey tls:index/selfSignedCert:SelfSignedCert tls:index/certRequest:CertRequest tls:index/locallySignedCert:LocallySignedCert"
  [random]="random random:index/randomString:RandomString random:index/randomId:RandomId random:index/randomPassword:RandomPassword"
)
# Inputs the 5.6.1/4.21.2 SDKs have that the served Terraform providers (tls 4.0.4 era, random 3.6.0)
# predate: write-only key inputs (Terraform 1.11), maxPathLength (tls 4.1), subject.emailAddress
# (tls 4.0.5). groundwork sets none of them.
declare -A DRIFT=(
  [tls]='{"tls:index/selfSignedCert:SelfSignedCert": ["privateKeyPemWo", "privateKeyPemWoVersion", "maxPathLength", "subject.emailAddress"],
          "tls:index/certRequest:CertRequest": ["privateKeyPemWo", "privateKeyPemWoVersion", "subject.emailAddress"],
          "tls:index/locallySignedCert:LocallySignedCert": ["caPrivateKeyPemWo", "caPrivateKeyPemWoVersion", "maxPathLength"]}'
  [random]='{}'
)
declare -A VERSION=([tls]="5.6.1" [random]="4.21.2")

status=0
for pkg in tls random; do
  sdk="$REPO/node_modules/@pulumi/$pkg"
  bin="$GROUNDWORK_PULUMI_DIR/bin/$pkg-${VERSION[$pkg]}/pulumi-resource-$pkg"
  [[ -x "$bin" ]] || { echo "check-names.sh: no plugin at $bin (run build.sh first)" >&2; exit 1; }
  [[ -f "$sdk/package.json" ]] || { echo "check-names.sh: no SDK at $sdk (run npm install)" >&2; exit 1; }
  names="$(mktemp)"
  "$bin" -dump-names >"$names"
  python3 "$HERE/check-names.py" "$sdk" "$names" "${USED[$pkg]}" "${DRIFT[$pkg]}" "$ALL" || status=1
  rm -f "$names"
done
exit "$status"
