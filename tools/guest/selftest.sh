#!/usr/bin/env bash
# Proof run of the real-guest harness: base image, air-gapped mirror, one guest booted with
# a minimal cloud-init that installs PKG... (default: containerd runc) from the mirror only.
#
# usage: tools/guest/selftest.sh [PKG...]
#
# Checks: cloud-init "status: done", a written file, every PKG installed, no route to the
# Debian mirror (by name or address) nor to the host, the mirror reachable; with containerd:
# the service active, `ctr version`, and the tiny OCI image (tiny-image.sh) imported and run.
# Stops its guest and mirror on exit, even on failure. Prints SELFTEST lines with timings.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(containerd runc)
name=gw-selftest
work=$GW_STATE/selftest
mkdir -p "$work"
failures=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ $3 == *"$2"* ]]; then
    log "PASS $1"
  else
    log "FAIL $1: expected '$2', got '$3'"
    failures=$((failures + 1))
  fi
}
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
val() { sed -n "s/^$1=//p"; }

t0=$(date +%s.%N)
image_dir=$("$HERE/image.sh" | val GUEST_IMAGE_DIR)
t_image=$(since "$t0")
t0=$(date +%s.%N)
"$HERE/image.sh" >/dev/null
t_image_cached=$(since "$t0")
log "image: $image_dir ($(du -m "$image_dir/base.qcow2" | cut -f1) MiB qcow2), ${t_image}s, cached ${t_image_cached}s"

t0=$(date +%s.%N)
mirror_out=$("$HERE/mirror.sh" --serve auto "${pkgs[@]}")
t_mirror=$(since "$t0")
port=$(val MIRROR_PORT <<<"$mirror_out")
apt_line=$(val MIRROR_APT_LINE <<<"$mirror_out")
mirror_pkgs=$(val MIRROR_PACKAGES <<<"$mirror_out")
mirror_mib=$(val MIRROR_MIB <<<"$mirror_out")
cleanup() {
  "$HERE/boot.sh" stop --name "$name" || true
  "$HERE/mirror.sh" --stop "$port" || true
}
trap cleanup EXIT

cat >"$work/user-data" <<EOF
#cloud-config
apt:
  preserve_sources_list: false
  sources_list: |
    $apt_line
package_update: true
packages: [$(printf '%s, ' "${pkgs[@]}" | sed 's/, $//')]
write_files:
  - path: /etc/groundwork-selftest
    content: "written by cloud-init\n"
EOF
env_out=$("$HERE/boot.sh" start --name "$name" --user-data "$work/user-data" --mirror-port "$port" --owner-pid $$)
started_ms=$(val GUEST_STARTED_MS <<<"$env_out")
accel=$(val GUEST_ACCEL <<<"$env_out")
ssh_up=$("$HERE/boot.sh" wait-ssh --name "$name" --timeout 900 | val GUEST_SSH_UP_SEC)
gssh() { "$HERE/boot.sh" ssh --name "$name" -- "$@"; }

log "waiting for cloud-init (up to 900s)"
status=$(timeout 900 "$HERE/boot.sh" ssh --name "$name" -- cloud-init status --wait --long || true)
ci_done=$(awk -v now="$(date +%s%3N)" -v t0="$started_ms" 'BEGIN { printf "%.1f", (now - t0) / 1000 }')
check "cloud-init finished" "status: done" "$status"
check "write_files ran" "written by cloud-init" "$(gssh cat /etc/groundwork-selftest 2>&1 || true)"
check "apt source is the mirror only" "$apt_line" "$(gssh 'grep -rh ^deb /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null' || true)"
for p in "${pkgs[@]}"; do
  check "package $p installed" "install ok installed" "$(gssh "dpkg-query -W -f='\${Status}' $p" 2>&1 || true)"
done
check "no failed systemd units" "none-failed" \
  "$(gssh "systemctl --failed --no-legend --plain | grep . || echo none-failed" 2>&1 || true)"
check "cloud-init log has no apt error" "no-error" \
  "$(gssh "sudo grep -E '^(E:|W: Failed)' /var/log/cloud-init-output.log || echo no-error" 2>&1 || true)"

# Air gap: the mirror answers, nothing else does.
debian_ip=$(getent ahostsv4 deb.debian.org | awk 'NR == 1 { print $1 }' || true)
probe() { gssh "curl -sS -m 8 -o /dev/null -w 'http=%{http_code}' $1 2>&1 || true"; }
check "mirror reachable at http://10.0.2.100/" "http=200" "$(probe http://10.0.2.100/dists/bookworm/Release)"
check "no DNS for deb.debian.org" "Could not resolve host" "$(probe http://deb.debian.org/debian/)"
if [[ -n $debian_ip ]]; then
  check "no route to deb.debian.org ($debian_ip)" "http=000" "$(probe "http://$debian_ip/debian/")"
fi
check "no route to the host (10.0.2.2)" "http=000" "$(probe "http://10.0.2.2:$port/")"

if printf '%s\n' "${pkgs[@]}" | grep -qx containerd; then
  check "containerd active" "active" "$(gssh systemctl is-active containerd 2>&1 || true)"
  check "ctr version talks to the daemon" "Server:" "$(gssh sudo ctr version 2>&1 || true)"
  "$HERE/tiny-image.sh" "$work/tiny.tar" >/dev/null
  gssh 'cat > /tmp/tiny.tar' <"$work/tiny.tar"
  t0=$(date +%s.%N)
  out=$(gssh 'sudo ctr -n k8s.io images import /tmp/tiny.tar >/dev/null && sudo ctr -n k8s.io run --rm docker.io/groundwork/tiny:1.0 selftest' 2>&1 || true)
  t_tiny=$(since "$t0")
  check "tiny OCI image imports and prints hello (${t_tiny}s)" "hello" "$out"
fi

echo "SELFTEST packages=${pkgs[*]} accel=$accel"
echo "SELFTEST image=${t_image}s image_cached=${t_image_cached}s"
echo "SELFTEST mirror=${t_mirror}s mirror_packages=$mirror_pkgs mirror_mib=$mirror_mib"
echo "SELFTEST boot_to_ssh=${ssh_up}s boot_to_cloud_init_done=${ci_done}s"
echo "SELFTEST failures=$failures"
[[ $failures -eq 0 ]]
