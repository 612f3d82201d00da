#!/usr/bin/env bash
# Installs the Debian packages a stage needs, only when missing:
#   deps.sh validators   shellcheck, cloud-init (its `schema` command only; it never runs here), openssl,
#                        docker-registry (started on loopback by the seed tests only), skopeo (reads built images),
#                        postgresql-client and curl (ask the workload images' servers, test/images/),
#                        apt-utils (apt-ftparchive indexes the Kubernetes packages' flat repository, tools/packages/)
#   deps.sh sshd         openssh-server (tests start their own loopback sshd; the service never starts)
#   deps.sh build        gcc, libc6-dev (tools/kubernetes/build.sh compiles pause statically, as upstream does)
set -euo pipefail
want=()
case "${1:-}" in
  validators) want=(shellcheck cloud-init openssl docker-registry skopeo postgresql-client curl apt-utils) ;;
  sshd) want=(openssh-server) ;;
  build) want=(gcc libc6-dev) ;;
  *) echo "deps.sh: unknown set '${1:-}'; sets: validators sshd build" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[deps] installing: ${missing[*]}"
# Packages with services (openssh-server) must not start them here: a policy-rc.d refuses, for this
# install only, unless the machine already has one.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# cloud-init is installed for its schema validator only: keep its services from ever running here.
if [[ " ${missing[*]} " == *" cloud-init "* ]]; then touch /etc/cloud/cloud-init.disabled; fi
