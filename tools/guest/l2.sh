#!/usr/bin/env bash
# A private L2 segment between guests: a Linux bridge with one tap device per guest, and a
# network namespace on the same segment from which the host reaches the guests' addresses.
#
# usage: tools/guest/l2.sh up NAME --taps N --probe ADDRESS/PREFIX
#        tools/guest/l2.sh down NAME
#        tools/guest/l2.sh exec NAME -- COMMAND...
#
# up: bridge gwbr-NAME (no address in the host's namespace, so the host neither answers nor
# routes for the guests), taps gwtap-NAME-0 … gwtap-NAME-(N-1) attached to it (boot.sh --tap),
# and namespace gw-NAME whose only interface (besides lo) is a veth on the bridge with
# ADDRESS/PREFIX and no default route: traffic stays inside the segment. Prints L2_* lines.
# down: stops what still runs inside the namespace (probes, forwards, a Pulumi engine and its
# plugins left by an interrupted test), then removes the taps, the bridge and the namespace (each
# only if it exists).
# exec: runs COMMAND inside the namespace (e.g. curl or kubectl against a guest's address).
# NAME: 1-6 characters a-z0-9 (interface names are at most 15 characters). Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

usage() { die "usage: l2.sh up NAME --taps N --probe ADDRESS/PREFIX | l2.sh down NAME | l2.sh exec NAME -- COMMAND..."; }

[[ $# -ge 2 ]] || usage
sub=$1 name=$2
shift 2
[[ $name =~ ^[a-z0-9]{1,6}$ ]] || die "segment name '$name' must be 1-6 characters a-z, 0-9"
bridge=gwbr-$name
ns=gw-$name
veth_host=gwvh-$name
veth_ns=gwvn-$name

exists() { ip link show "$1" >/dev/null 2>&1; }

down() {
  local link pids
  if ip netns list | grep -qE "^$ns( |$)"; then
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    if [[ -n ${pids// /} ]]; then
      log "segment $name: stopping what still runs in $ns (pids $pids)"
      # shellcheck disable=SC2086 # one word per pid
      kill -TERM $pids 2>/dev/null || true
      sleep 2
      pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
      # shellcheck disable=SC2086
      if [[ -n ${pids// /} ]]; then kill -KILL $pids 2>/dev/null || true; fi
    fi
  fi
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E "^gwtap-$name-[0-9]+$" || true); do
    ip link del "$link"
  done
  if exists "$veth_host"; then ip link del "$veth_host"; fi
  if exists "$bridge"; then ip link del "$bridge"; fi
  if ip netns list | grep -qE "^$ns( |$)"; then ip netns del "$ns"; fi
  log "segment $name removed"
}

case $sub in
  up)
    taps="" probe=""
    while [[ $# -gt 0 ]]; do
      case $1 in
        --taps) taps=${2:-}; shift 2 ;;
        --probe) probe=${2:-}; shift 2 ;;
        *) die "up: unknown argument '$1'" ;;
      esac
    done
    [[ $taps =~ ^[1-9]$ ]] || die "--taps takes 1-9, got '$taps'"
    [[ $probe =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$ ]] || die "--probe takes ADDRESS/PREFIX (e.g. 10.88.0.250/24), got '$probe'"
    need_root
    need_pkgs ip:iproute2
    if exists "$bridge"; then die "segment $name exists ($bridge); remove it with: l2.sh down $name"; fi
    trap 'down >/dev/null 2>&1 || true' ERR
    ip link add "$bridge" type bridge
    # No STP delay: guests talk as soon as their links are up.
    ip link set "$bridge" type bridge forward_delay 0 stp_state 0
    # No IPv6 link-local address either: the host takes no part in the segment.
    sysctl -qw "net.ipv6.conf.$bridge.disable_ipv6=1" 2>/dev/null || true
    ip link set "$bridge" up
    for i in $(seq 0 $((taps - 1))); do
      ip tuntap add "gwtap-$name-$i" mode tap
      ip link set "gwtap-$name-$i" master "$bridge" up
    done
    ip netns add "$ns"
    ip link add "$veth_host" type veth peer name "$veth_ns"
    ip link set "$veth_host" master "$bridge" up
    ip link set "$veth_ns" netns "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$probe" dev "$veth_ns"
    ip -n "$ns" link set "$veth_ns" up
    trap - ERR
    log "segment $name: bridge $bridge, taps gwtap-$name-0..$((taps - 1)), namespace $ns at $probe"
    echo "L2_BRIDGE=$bridge"
    echo "L2_NAMESPACE=$ns"
    echo "L2_TAPS=$(seq -f "gwtap-$name-%g" 0 $((taps - 1)) | paste -sd,)"
    echo "L2_PROBE=${probe%/*}"
    ;;
  down)
    [[ $# -eq 0 ]] || die "down: unknown argument '$1'"
    need_root
    down
    ;;
  exec)
    [[ ${1:-} == -- ]] || usage
    shift
    [[ $# -gt 0 ]] || usage
    exec ip netns exec "$ns" "$@"
    ;;
  *) usage ;;
esac
