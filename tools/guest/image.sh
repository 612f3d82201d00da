#!/usr/bin/env bash
# Build (or reuse) the Debian 12 base image that real-guest tests boot.
#
# usage: tools/guest/image.sh [--rebuild]
#
# Debian packages only: debootstrap of bookworm into a folder, kernel and initrd copied out
# (booted with qemu -kernel/-initrd, no bootloader), the folder packed into an ext4 qcow2.
# Cached under ${GROUNDWORK_CACHE:-~/.cache/groundwork}/guest/<key>/, key = hash of the
# package list and of this script, so a second run is a cache hit. The image deliberately
# holds NO container engine: tests install it from the air-gapped mirror (mirror.sh).
# Prints GUEST_IMAGE_DIR=<dir> on stdout; progress goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

SUITE=bookworm
# Why some of these are here: python3-cffi-backend (else cloud-init's dependencies stay
# unconfigured under debootstrap), locales (else cloud-init ends in status: error),
# ifupdown + isc-dhcp-client (cloud-init's network renderer on Debian without netplan).
PACKAGES=(
  systemd-sysv udev dbus kmod linux-image-cloud-amd64 initramfs-tools
  cloud-init python3-cffi-backend cloud-guest-utils locales
  openssh-server sudo ca-certificates curl
  ifupdown isc-dhcp-client iproute2 iputils-ping netbase procps less
)
FORBIDDEN=(containerd runc docker.io docker-ce containerd.io podman)
DISK_SIZE=6G

rebuild=false
for arg in "$@"; do
  case $arg in
    --rebuild) rebuild=true ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: image.sh [--rebuild])" ;;
  esac
done

key=$( { printf '%s\n' "$SUITE" "${PACKAGES[@]}"; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
dir=$GW_GUEST_CACHE/base-$key

if [[ $rebuild == false && -f $dir/complete ]]; then
  log "base image cache hit: $dir"
  echo "GUEST_IMAGE_DIR=$dir"
  exit 0
fi

need_root
need_pkgs debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils \
  genisoimage:genisoimage mkfs.ext4:e2fsprogs
mkdir -p "$GW_GUEST_CACHE"
# One builder per key: a second caller waits, then finds the finished image.
exec 9>"$GW_GUEST_CACHE/.lock-base-$key"
flock 9
if [[ $rebuild == false && -f $dir/complete ]]; then
  log "base image built by another process meanwhile: $dir"
  echo "GUEST_IMAGE_DIR=$dir"
  exit 0
fi

build=$GW_GUEST_CACHE/.build-base-$key
rootfs=$build/rootfs
cleanup() { rm -rf "$build"; }
trap cleanup EXIT
rm -rf "$build"
mkdir -p "$build/out"

mirror=$(host_debian_mirror)
list=$(IFS=,; echo "${PACKAGES[*]}")
log "debootstrap $SUITE from $mirror (${#PACKAGES[@]} packages + minbase; takes minutes)"
t_boot=$(date +%s)
if ! debootstrap --variant=minbase --include="$list" "$SUITE" "$rootfs" "$mirror" >"$build/debootstrap.log" 2>&1; then
  tail -n 20 "$build/debootstrap.log" >&2
  die "debootstrap failed (log above)"
fi
t_deboot=$(( $(date +%s) - t_boot ))
log "debootstrap done in ${t_deboot}s"

for pkg in "${FORBIDDEN[@]}"; do
  if dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f="\${Status}" "$pkg" 2>/dev/null | grep -q 'ok installed'; then
    die "base image must not contain a container engine, but '$pkg' got installed"
  fi
done

t_img=$(date +%s)
echo debian-guest >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
# debootstrap copied the build host's resolver; guests must not inherit it.
: >"$rootfs/etc/resolv.conf"
# Empty machine-id: each boot of an overlay is a new machine.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
echo 'LABEL=rootfs / ext4 defaults,discard 0 1' >"$rootfs/etc/fstab"
# Guests are air-gapped: the only package source is the one the user-data under test configures.
printf '# groundwork guest: no default source; user-data points apt at the air-gapped mirror\n' \
  >"$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-groundwork.cfg" <<'EOF'
# groundwork test guest: seed comes from a NoCloud cidata ISO only.
datasource_list: [ NoCloud, None ]
manage_etc_hosts: true
locale: C.UTF-8
EOF
rm -f "$rootfs"/etc/ssh/ssh_host_*
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/log/*.log

default_user=$(awk '/^ *default_user:/ {f = 1; next} f && /name:/ {print $2; exit}' "$rootfs/etc/cloud/cloud.cfg")
[[ -n $default_user ]] || die "could not read default_user from the image's /etc/cloud/cloud.cfg"

cp "$rootfs"/boot/vmlinuz-* "$build/out/vmlinuz"
cp "$rootfs"/boot/initrd.img-* "$build/out/initrd.img"
cp "$rootfs/var/lib/dpkg/status" "$build/out/dpkg-status"
dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f="\${Package} \${Version}\n" >"$build/out/packages.txt"
printf '%s\n' "${PACKAGES[@]}" >"$build/out/include.txt"
echo "$default_user" >"$build/out/default-user"
rootfs_mib=$(du -sm "$rootfs" | cut -f1)

truncate -s "$DISK_SIZE" "$build/root.raw"
mkfs.ext4 -q -F -L rootfs -d "$rootfs" "$build/root.raw"
qemu-img convert -f raw -O qcow2 "$build/root.raw" "$build/out/base.qcow2"
rm -f "$build/root.raw"
t_image=$(( $(date +%s) - t_img ))
touch "$build/out/complete"

rm -rf "$dir"
mv "$build/out" "$dir"
qcow_mib=$(( $(stat -c %s "$dir/base.qcow2") / 1048576 ))
log "image done: debootstrap=${t_deboot}s image=${t_image}s rootfs=${rootfs_mib}MiB qcow2=${qcow_mib}MiB" \
  "packages=$(wc -l <"$dir/packages.txt") default_user=$default_user"
echo "GUEST_IMAGE_DIR=$dir"
