#!/usr/bin/env bash
# Boot, reach and stop throw-away Debian 12 guests (one qemu each) for real-guest tests.
#
# usage: tools/guest/boot.sh start --name NAME --user-data FILE [--mirror-port PORT]
#                              [--memory MiB] [--cpus N] [--nice N] [--owner-pid PID]
#                              [--tap IFNAME] [--network-config FILE]
#        tools/guest/boot.sh wait-ssh --name NAME [--timeout SEC]
#        tools/guest/boot.sh ssh --name NAME [--] COMMAND...
#        tools/guest/boot.sh stop --name NAME
#
# start: a qcow2 overlay of the base image (image.sh), a NoCloud "cidata" seed holding FILE
# unmodified as user-data and a meta-data with instance-id, local-hostname and the harness
# SSH key under public-keys (cloud-init gives it to the image's default user, "debian";
# user-data that lists users: must keep "- default" in it for SSH to work).
# Networking is AIR-GAPPED: qemu user networking with restrict=on; the guest reaches only
# SSH (hostfwd from a free 127.0.0.1 port) and, with --mirror-port, the host's mirror as
# http://10.0.2.100/ (guestfwd to 127.0.0.1:PORT). Nothing else, DNS included.
# --tap adds a second NIC (eth1) on a tap device of a private L2 segment (l2.sh), MAC derived
# from NAME; --network-config puts FILE (cloud-init network config v2) in the seed as
# network-config — it must keep eth0 on DHCP for SSH and the mirror.
# KVM is used only when /dev/kvm is a usable stock KVM (not kvm_pvm); else -accel tcg.
# GROUNDWORK_GUEST_ACCEL=tcg|kvm overrides. --owner-pid: stop the guest when PID exits.
# State: .state/guest/vm-NAME/ (guest.env, serial.log, qemu.pid). stop kills only the
# recorded qemu, then removes the overlay and seed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

MIRROR_GUEST_IP=10.0.2.100
SSH_KEY=$GW_GUEST_CACHE/ssh/id_ed25519

usage() { die "usage: boot.sh start|wait-ssh|ssh|stop --name NAME ... (see boot.sh --help)"; }

# pick_accel prints "ACCEL REASON".
pick_accel() {
  if [[ -n ${GROUNDWORK_GUEST_ACCEL:-} ]]; then
    [[ $GROUNDWORK_GUEST_ACCEL == tcg || $GROUNDWORK_GUEST_ACCEL == kvm ]] \
      || die "GROUNDWORK_GUEST_ACCEL must be tcg or kvm, got '$GROUNDWORK_GUEST_ACCEL'"
    echo "$GROUNDWORK_GUEST_ACCEL set-by-GROUNDWORK_GUEST_ACCEL"
  elif [[ ! -e /dev/kvm ]]; then
    echo "tcg no-/dev/kvm"
  elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    echo "tcg /dev/kvm-not-accessible"
  elif [[ -d /sys/module/kvm_pvm ]]; then
    # PVM needs a PVM-built guest kernel: stock Debian kernels hang or die under it.
    echo "tcg /dev/kvm-is-kvm_pvm"
  elif [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]]; then
    echo "kvm stock-kvm"
  else
    echo "tcg unknown-kvm-provider"
  fi
}

ssh_opts() {
  local port=$1
  printf '%s\n' -i "$SSH_KEY" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -o ServerAliveInterval=15
}

load_env() {
  [[ -f $run/guest.env ]] || die "no guest named '$name' (no $run/guest.env); start it first"
  # shellcheck source=/dev/null
  source "$run/guest.env"
}

cmd_start() {
  local user_data="" mirror_port="" memory=2048 cpus=2 niceness=0 owner="" tap="" netcfg=""
  while [[ $# -gt 0 ]]; do
    case $1 in
      --user-data) user_data=${2:-}; shift 2 ;;
      --mirror-port) mirror_port=${2:-}; shift 2 ;;
      --memory) memory=${2:-}; shift 2 ;;
      --cpus) cpus=${2:-}; shift 2 ;;
      --nice) niceness=${2:-}; shift 2 ;;
      --owner-pid) owner=${2:-}; shift 2 ;;
      --tap) tap=${2:-}; shift 2 ;;
      --network-config) netcfg=${2:-}; shift 2 ;;
      *) die "start: unknown argument '$1'" ;;
    esac
  done
  [[ -n $user_data ]] || die "start needs --user-data FILE"
  [[ -f $user_data && -s $user_data ]] || die "user-data file '$user_data' does not exist or is empty"
  [[ -z $mirror_port || $mirror_port =~ ^[0-9]+$ ]] || die "--mirror-port must be a port number, got '$mirror_port'"
  [[ $memory =~ ^[0-9]+$ && $memory -ge 512 ]] || die "--memory must be a number of MiB >= 512, got '$memory'"
  [[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive number, got '$cpus'"
  [[ $niceness =~ ^(1?[0-9])$ ]] || die "--nice must be 0 to 19, got '$niceness'"
  [[ -z $owner || $owner =~ ^[0-9]+$ ]] || die "--owner-pid must be a PID, got '$owner'"
  [[ -z $tap ]] || ip link show "$tap" >/dev/null 2>&1 || die "--tap: no interface '$tap'; create the segment with tools/guest/l2.sh up"
  [[ -z $netcfg || -s $netcfg ]] || die "--network-config file '$netcfg' does not exist or is empty"
  local sel accel reason
  sel=$(pick_accel)
  accel=${sel%% *} reason=${sel#* }
  if [[ -f $run/qemu.pid ]] && pid_alive "$(cat "$run/qemu.pid")" "$run/overlay.qcow2"; then
    die "guest '$name' is already running (pid $(cat "$run/qemu.pid")); stop it with: boot.sh stop --name $name"
  fi

  need_pkgs qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils genisoimage:genisoimage \
    ssh:openssh-client ssh-keygen:openssh-client socat:socat curl:curl python3:python3
  local image_dir
  image_dir=$("$HERE/image.sh" | sed -n 's/^GUEST_IMAGE_DIR=//p')
  [[ -f $image_dir/complete ]] || die "base image is missing; run tools/guest/image.sh"
  if [[ -n $mirror_port ]] && ! curl -fsS -o /dev/null "http://127.0.0.1:$mirror_port/" 2>/dev/null; then
    log "warning: nothing answers on 127.0.0.1:$mirror_port; the guest will see no mirror"
  fi
  if [[ ! -f $SSH_KEY ]]; then
    mkdir -p "$(dirname "$SSH_KEY")"
    ssh-keygen -q -t ed25519 -N '' -C groundwork-guest-harness -f "$SSH_KEY"
  fi

  rm -rf "$run"
  mkdir -p "$run/seed"
  cp "$user_data" "$run/seed/user-data"
  local seed_files=("$run/seed/user-data" "$run/seed/meta-data")
  if [[ -n $netcfg ]]; then
    cp "$netcfg" "$run/seed/network-config"
    seed_files+=("$run/seed/network-config")
  fi
  {
    echo "instance-id: gw-$name-$(date +%s)"
    echo "local-hostname: $name"
    echo "public-keys:"
    echo "  - $(cat "$SSH_KEY.pub")"
  } >"$run/seed/meta-data"
  genisoimage -quiet -output "$run/seed.iso" -volid cidata -joliet -rock \
    "${seed_files[@]}"
  qemu-img create -q -f qcow2 -b "$image_dir/base.qcow2" -F qcow2 "$run/overlay.qcow2"

  local accel_args=() append="root=/dev/vda rw console=ttyS0 net.ifnames=0"
  if [[ $accel == kvm ]]; then accel_args=(-accel kvm -cpu host); else
    accel_args=(-accel tcg)
    # Under TCG the kernel finds the vCPUs' TSCs "unsynchronized" (their boot-time warp check runs
    # emulated) and falls back to the HPET: every clock read, and Go's runtime reads it all the time,
    # is then a device access in qemu under its global lock (1.0-1.4 us a read, measured in a 2-vCPU
    # guest). TCG's TSC comes from one host clock, so it is synchronized: trusting it makes a read
    # 175-360 ns, served by the vDSO.
    append+=" clocksource=tsc tsc=reliable"
  fi
  log "guest '$name': accel=$accel ($reason) memory=${memory}MiB cpus=$cpus nice=$niceness"

  local net fwd="" port started attempt l2_args=()
  if [[ -n $tap ]]; then
    # A stable, locally administered MAC per guest name.
    local mac
    mac=$(printf '%s' "$name" | sha256sum | sed -E 's/^(..)(..)(..)(..).*/52:54:\1:\2:\3:\4/')
    l2_args=(-netdev "tap,id=n1,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n1,mac=$mac,romfile=")
  fi
  [[ -z $mirror_port ]] || fwd=",guestfwd=tcp:$MIRROR_GUEST_IP:80-cmd:socat STDIO TCP:127.0.0.1:$mirror_port"
  for attempt in 1 2 3; do
    port=$(free_port)
    net="user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22$fwd"
    started=$(date +%s%3N)
    # --nice: every qemu thread (the vCPUs too) inherits it, so guests that share the host's
    # cores can give one of them (a control plane) the larger share when all are busy.
    if nice -n "$niceness" qemu-system-x86_64 -name "gw-$name" "${accel_args[@]}" -m "$memory" -smp "$cpus" \
      -nodefaults -display none -no-reboot \
      -serial "file:$run/serial.log" -pidfile "$run/qemu.pid" -daemonize \
      -kernel "$image_dir/vmlinuz" -initrd "$image_dir/initrd.img" \
      -append "$append" \
      -drive "file=$run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
      -drive "file=$run/seed.iso,if=virtio,format=raw,readonly=on" \
      -netdev "$net" -device virtio-net-pci,netdev=n0,romfile= "${l2_args[@]}" \
      -device virtio-rng-pci 2>"$run/qemu.err"; then
      break
    fi
    grep -q 'host forwarding' "$run/qemu.err" && [[ $attempt -lt 3 ]] && continue
    die "qemu failed to start: $(cat "$run/qemu.err")"
  done

  local user
  user=$(cat "$image_dir/default-user")
  cat >"$run/guest.env" <<EOF
GUEST_NAME=$name
GUEST_RUN_DIR=$run
GUEST_PID=$(cat "$run/qemu.pid")
GUEST_ACCEL=$accel
GUEST_SSH_HOST=127.0.0.1
GUEST_SSH_PORT=$port
GUEST_SSH_USER=$user
GUEST_SSH_KEY=$SSH_KEY
GUEST_STARTED_MS=$started
GUEST_SERIAL_LOG=$run/serial.log
GUEST_MIRROR_URL=${mirror_port:+http://$MIRROR_GUEST_IP/}
EOF
  if [[ -n $owner ]]; then
    # Outlives a crashed or killed test runner: stops this guest once the owner is gone.
    # shellcheck disable=SC2016  # the inner script expands its own positional parameters
    nohup bash -c 'while kill -0 "$1" 2>/dev/null && [[ -f "$2" ]]; do sleep 2; done; [[ -f "$2" ]] && exec "$3" stop --name "$4"' \
      gw-guest-watch "$owner" "$run/qemu.pid" "$SELF" "$name" >/dev/null 2>&1 </dev/null &
    echo $! >"$run/watcher.pid"
  fi
  log "guest '$name' started: pid $(cat "$run/qemu.pid"), ssh $user@127.0.0.1:$port, serial $run/serial.log"
  cat "$run/guest.env"
}

cmd_wait_ssh() {
  local timeout=900
  [[ ${1:-} != --timeout ]] || { timeout=${2:-}; shift 2; }
  [[ $# -eq 0 ]] || die "wait-ssh: unknown argument '$1'"
  [[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got '$timeout'"
  load_env
  local opts deadline=$(( $(date +%s) + timeout ))
  mapfile -t opts < <(ssh_opts "$GUEST_SSH_PORT")
  until ssh "${opts[@]}" "$GUEST_SSH_USER@127.0.0.1" true </dev/null 2>/dev/null; do
    pid_alive "$GUEST_PID" "$run/overlay.qcow2" \
      || die "guest '$name' died before SSH came up; serial log tail: $(tail -n 5 "$GUEST_SERIAL_LOG" | tr -d '\r')"
    [[ $(date +%s) -lt $deadline ]] || die "guest '$name': no SSH after ${timeout}s (serial log: $GUEST_SERIAL_LOG)"
    sleep 1
  done
  local up
  up=$(awk -v now="$(date +%s%3N)" -v t0="$GUEST_STARTED_MS" 'BEGIN { printf "%.1f", (now - t0) / 1000 }')
  log "guest '$name': SSH up ${up}s after qemu start"
  echo "GUEST_SSH_UP_SEC=$up"
}

cmd_ssh() {
  [[ ${1:-} != -- ]] || shift
  [[ $# -gt 0 ]] || die "ssh needs a command"
  load_env
  local opts
  mapfile -t opts < <(ssh_opts "$GUEST_SSH_PORT")
  exec ssh "${opts[@]}" "$GUEST_SSH_USER@127.0.0.1" "$@"
}

cmd_stop() {
  [[ $# -eq 0 ]] || die "stop: unknown argument '$1'"
  [[ -d $run ]] || { log "no guest named '$name'"; return 0; }
  local watcher qpid
  if [[ -f $run/watcher.pid ]]; then
    watcher=$(cat "$run/watcher.pid")
    [[ $watcher == "$$" ]] || stop_pid "$watcher" gw-guest-watch
    rm -f "$run/watcher.pid"
  fi
  if [[ -f $run/qemu.pid ]]; then
    qpid=$(cat "$run/qemu.pid")
    stop_pid "$qpid" "$run/overlay.qcow2"
    rm -f "$run/qemu.pid"
    log "guest '$name' stopped (qemu pid $qpid)"
  fi
  rm -f "$run/overlay.qcow2" "$run/seed.iso"
}

[[ $# -gt 0 ]] || usage
case $1 in -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
sub=$1; shift
[[ ${1:-} == --name && -n ${2:-} ]] || die "$sub needs --name NAME as its first option"
name=$2; shift 2
[[ $name =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] \
  || die "guest name '$name' must be a host name: a-z, 0-9 and '-', at most 32 characters"
run=$GW_STATE/vm-$name
case $sub in
  start) cmd_start "$@" ;;
  wait-ssh) cmd_wait_ssh "$@" ;;
  ssh) cmd_ssh "$@" ;;
  stop) cmd_stop "$@" ;;
  *) usage ;;
esac
