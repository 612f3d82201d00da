#!/usr/bin/env bash
# The API shape groundwork's Pulumi OpenStack code relies on, walked with the OpenStack CLI:
# network + subnet + port with a fixed IP, a security group with a rule, an anti-affinity server
# group holding 3 servers that must land ACTIVE on 3 distinct hosts; then everything is deleted
# and checked gone. Run through 'local.sh smoke' (it exports the admin OS_* variables).
set -euo pipefail

OSC=/usr/bin/openstack
P=gw-smoke COUNT=3 FIXED_IP=10.99.0.10
T0=${EPOCHREALTIME/./}
ts() {
  local d=$((${EPOCHREALTIME/./} - T0))
  printf '[%4d.%ds] %s\n' $((d / 1000000)) $((d % 1000000 / 100000)) "$*"
}
fail() {
  echo "smoke: FAIL: $*" >&2
  exit 1
}
[[ -n ${OS_AUTH_URL:-} ]] || fail "OS_* variables not set; run it as 'local.sh smoke'"

# ids of the smoke resources of one kind, found by name so a broken earlier run is cleaned too
ids_of() {
  case $1 in
  server) "$OSC" server list --name "^$P-" -f value -c ID ;;
  port) "$OSC" port list --name "$P-port" -f value -c ID ;;
  sg) "$OSC" security group list -f value -c ID -c Name | awk -v n="$P-sg" '$2 == n {print $1}' ;;
  group) "$OSC" server group list -f value -c ID -c Name | awk -v n="$P-group" '$2 == n {print $1}' ;;
  network) "$OSC" network list --name "$P-net" -f value -c ID ;;
  esac
}
# lists the five kinds in parallel (each CLI call costs ~2 s of start-up) into $TMP/<kind>
list_all() {
  local kind
  for kind in server port sg group network; do ids_of "$kind" >"$TMP/$kind" & done
  wait
}
cleanup() {
  local kind ids
  list_all
  for kind in server port sg group network; do
    mapfile -t ids <"$TMP/$kind"
    ((${#ids[@]})) || continue
    case $kind in
    server) "$OSC" server delete --wait "${ids[@]}" ;;
    port) "$OSC" port delete "${ids[@]}" ;;
    sg) "$OSC" security group delete "${ids[@]}" ;;
    group) "$OSC" server group delete "${ids[@]}" ;;
    network) "$OSC" network delete "${ids[@]}" ;; # takes its subnet along
    esac
    DELETED=$((DELETED + ${#ids[@]}))
  done
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DELETED=0
cleanup
((DELETED == 0)) || ts "removed $DELETED leftovers of an earlier smoke run"
# from here on, a failure deletes what the run made
trap 'rc=$?; if ((rc)); then echo "smoke: deleting what it made" >&2; cleanup >/dev/null 2>&1; fi; rm -rf "$TMP"' EXIT

# three independent chains in parallel: network+subnet, security group+rule, server group
{
  "$OSC" network create "$P-net" -f value -c id >"$TMP/net" &&
    "$OSC" subnet create --network "$(cat "$TMP/net")" --subnet-range 10.99.0.0/24 "$P-subnet" \
      -f value -c id >"$TMP/subnet"
} &
chain1=$!
{
  "$OSC" security group create "$P-sg" -f value -c id >"$TMP/sg" &&
    "$OSC" security group rule create --ingress --protocol tcp --dst-port 6443 "$(cat "$TMP/sg")" >/dev/null
} &
chain2=$!
"$OSC" server group create --policy anti-affinity "$P-group" -f value -c id >"$TMP/group" &
chain3=$!
for c in "$chain1" "$chain2" "$chain3"; do
  wait "$c" || fail "creating network/security group/server group failed"
done
net=$(<"$TMP/net") subnet=$(<"$TMP/subnet") sg=$(<"$TMP/sg") group=$(<"$TMP/group")
port=$("$OSC" port create --network "$net" --fixed-ip "subnet=$subnet,ip-address=$FIXED_IP" \
  --security-group "$sg" "$P-port" -f value -c id)
ts "network, subnet, port $FIXED_IP, security group + rule, anti-affinity server group created"

# server 1 takes the pre-made port (fixed IP), the others a port nova asks neutron for.
# One at a time: parallel creates in one anti-affinity group race in nova's scheduler, and the
# loser ends in ERROR (GroupAffinityViolation) when no spare host is left to retry on.
for ((i = 1; i <= COUNT; i++)); do
  if ((i == 1)); then nic=(--nic "port-id=$port"); else nic=(--nic "net-id=$net" --security-group "$sg"); fi
  "$OSC" server create --flavor gw.small --image debian-12 "${nic[@]}" --hint "group=$group" \
    --wait "$P-$i" -f value -c id >/dev/null || fail "server create $P-$i failed"
done
ts "$COUNT servers requested"

for ((try = 0; try < 120; try++)); do
  rows=$("$OSC" server list --name "^$P-" --long -f value -c Name -c Status -c Host)
  active=$(grep -c ' ACTIVE ' <<<"$rows" || true)
  ((active == COUNT)) && break
  grep -q ' ERROR ' <<<"$rows" && fail "a server went to ERROR: $(tr '\n' ';' <<<"$rows")"
  sleep 1
done
((active == COUNT)) || fail "only $active of $COUNT servers ACTIVE after 120 s"
hosts=$(awk '{print $3}' <<<"$rows" | sort -u | wc -l)
while read -r line; do echo "  $line"; done <<<"$rows"
((hosts == COUNT)) || fail "anti-affinity broken: $COUNT servers on $hosts hosts"
ts "$active servers ACTIVE on $hosts distinct hosts"

members=$("$OSC" server group show "$group" -f json -c members | grep -c '"[0-9a-f-]\{36\}"' || true)
((members == COUNT)) || fail "server group has $members members, expected $COUNT"
read -r device status < <("$OSC" port show "$port" -f value -c device_id -c status | paste -sd' ')
s1=$("$OSC" server show "$P-1" -f value -c id)
[[ $device == "$s1" ]] || fail "port $FIXED_IP is bound to '$device', not to $P-1 ($s1)"
ts "server group has $members members; port $FIXED_IP bound to $P-1 (port status $status)"

trap 'rm -rf "$TMP"' EXIT
DELETED=0
cleanup
ts "deleted $DELETED resources (servers, port, security group, server group, network + subnet)"
left=0
list_all
for kind in server port sg group network; do
  n=$(wc -l <"$TMP/$kind")
  ((n == 0)) || echo "  left over: $n $kind"
  left=$((left + n))
done
((left == 0)) || fail "$left resources remain after delete"
ts "smoke OK: nothing named $P-* remains"
