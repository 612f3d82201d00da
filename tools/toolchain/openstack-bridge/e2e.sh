#!/usr/bin/env bash
# End-to-end proof of the bridged OpenStack plugin against the local OpenStack
# (tools/openstack/local.sh): a Pulumi TypeScript program with @pulumi/openstack 3.15.2 creates a
# network, subnet, security group + rule, anti-affinity server group, keypair, a port with a fixed
# IP and a server on it (flavor gw.small, image debian-12, user data); the openstack CLI checks
# them; a second `pulumi up` must change nothing; `pulumi destroy` must leave nothing behind.
#   e2e.sh [--keep]     --keep: leave the stack and its OpenStack resources for inspection
# Needs: tools/toolchain/build.sh cli nodejs, then ./build.sh. Starts OpenStack only when it is
# not running, and then stops it again at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
LOCAL="$REPO/tools/openstack/local.sh"
KEEP=0
case "${1:-}" in
  "") ;;
  --keep) KEEP=1 ;;
  -h | --help) sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "e2e.sh: unknown argument '$1' (try --help)" >&2; exit 1 ;;
esac

START=$SECONDS
say() { printf '[e2e %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'e2e.sh: %s\n' "$*" >&2; exit 1; }

command -v pulumi >/dev/null || die "no pulumi CLI: run tools/toolchain/build.sh cli nodejs"
command -v pulumi-language-nodejs >/dev/null || die "no Node.js language host: run tools/toolchain/build.sh nodejs"
[[ -d "$PULUMI_HOME/plugins/resource-openstack-v3.15.2" ]] ||
  die "the openstack 3.15.2 plugin is not registered: run $HERE/build.sh"
[[ -d "$REPO/node_modules/@pulumi/openstack" ]] || die "no @pulumi/openstack in $REPO/node_modules: run npm install"

# Only an OpenStack that this run starts is stopped at the end. One that is running, or still
# starting (another user's), is waited for and left alone.
STARTED_OS=0
status="$("$LOCAL" status 2>/dev/null || true)" # exit status 3 while not every service is up
if ! grep -qE ' (running|starting) ' <<<"$status"; then
  say "starting the local OpenStack (tools/openstack/local.sh start)"
  STARTED_OS=1
  "$LOCAL" start
fi
for ((i = 0; ; i++)); do
  "$LOCAL" status >/dev/null 2>&1 && break
  ((i < 60)) || die "the local OpenStack is not fully up after 300s: see $LOCAL status"
  ((i > 0)) || say "waiting for every local OpenStack service to answer"
  sleep 5
done
eval "$("$LOCAL" env)" # OS_* for the openstack CLI and for the plugin's default provider

LOGS="$REPO/.state/openstack-bridge-e2e" # pulumi's output of the last run stays here
RUN="$LOGS/run-$$"
PREFIX="osb-e2e-$$"
IP="10.77.0.10"
mkdir -p "$RUN/backend" "$RUN/program"
cleanup() {
  local rc=$?
  if [[ $KEEP -eq 0 ]]; then
    if [[ -f "$RUN/program/Pulumi.e2e.yaml" ]]; then
      (cd "$RUN/program" && pulumi destroy --yes --stack e2e >"$LOGS/cleanup.log" 2>&1) || true
    fi
    cd "$REPO"
    rm -rf "$RUN"
  fi
  if [[ $STARTED_OS -eq 1 ]]; then "$LOCAL" stop || true; fi
  exit "$rc"
}
trap cleanup EXIT
# run_pulumi <log name> <pulumi args...>: the last lines on success, the diagnostics on failure.
run_pulumi() {
  local log="$LOGS/$1.log"
  shift
  if ! pulumi "$@" >"$log" 2>&1; then
    sed -n '/^Diagnostics:/,$p' "$log" | head -n 40 >&2
    die "pulumi $* failed (full output: $log)"
  fi
  grep -E '^(Resources:|    [-+~] |    [0-9]+ |Duration:)' "$log" || tail -n 5 "$log"
}

P="$RUN/program"
ln -s "$REPO/node_modules" "$P/node_modules"
printf 'name: osb-e2e\nruntime: nodejs\ndescription: bridged openstack plugin end-to-end check\n' >"$P/Pulumi.yaml"
printf '{"name": "osb-e2e", "main": "index.ts"}\n' >"$P/package.json"
printf '{"compilerOptions": {"strict": true, "target": "ES2020", "module": "commonjs", "moduleResolution": "node", "skipLibCheck": true, "types": ["node"]}}\n' >"$P/tsconfig.json"
cat >"$P/index.ts" <<'TS'
import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";

const cfg = new pulumi.Config();
const p = cfg.require("prefix");
const cidr = "10.77.0.0/24";
// The default provider gets no settings: the plugin falls back to the OS_* variables.
const net = new openstack.networking.Network("net", { name: `${p}-net`, adminStateUp: true });
const subnet = new openstack.networking.Subnet("subnet", {
    name: `${p}-subnet`, networkId: net.id, cidr, ipVersion: 4, gatewayIp: "10.77.0.1",
    dnsNameservers: ["10.77.0.2"], enableDhcp: true,
});
const sg = new openstack.networking.SecGroup("sg", { name: `${p}-sg`, description: "bridge e2e", deleteDefaultRules: false });
new openstack.networking.SecGroupRule("ssh", {
    securityGroupId: sg.id, direction: "ingress", ethertype: "IPv4", protocol: "tcp",
    portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: cidr, description: "ssh from the subnet",
});
const group = new openstack.compute.ServerGroup("group", { name: `${p}-group`, policies: ["anti-affinity"] });
// An explicit provider with the SDK's own setting names (authUrl, userName, tenantName, ...).
const os = new openstack.Provider("explicit", {
    authUrl: cfg.require("authUrl"), userName: cfg.require("userName"), password: cfg.requireSecret("password"),
    tenantName: cfg.require("tenantName"), userDomainName: "Default", projectDomainName: "Default",
    region: cfg.require("region"), insecure: false,
});
const key = new openstack.compute.Keypair("key", { name: `${p}-key`, publicKey: cfg.require("publicKey") }, { provider: os });
const port = new openstack.networking.Port("port", {
    name: `${p}-port`, networkId: net.id, fixedIps: [{ subnetId: subnet.id, ipAddress: cfg.require("ip") }],
    securityGroupIds: [sg.id], adminStateUp: true,
});
const server = new openstack.compute.Instance("server", {
    name: `${p}-server`, flavorName: "gw.small", imageName: "debian-12", keyPair: key.name,
    userData: "#cloud-config\nruncmd:\n  - echo groundwork\n", networks: [{ port: port.id }],
    schedulerHints: [{ group: group.id }], metadata: { "groundwork-role": "e2e" }, // nova refuses '/' in keys
});
const seenNet = openstack.networking.getNetworkOutput({ name: net.name });
const seenSubnet = openstack.networking.getSubnetOutput({ networkId: seenNet.id, cidr: subnet.cidr }); // after the subnet
const image = openstack.images.getImageOutput({ name: "debian-12", mostRecent: true }, { provider: os });

export const serverId = server.id;
export const serverIp = server.accessIpV4;
export const serverImageId = server.imageId;
export const imageId = image.id;
export const portIps = port.allFixedIps;
export const networkMatches = pulumi.all([seenNet.id, net.id]).apply(([a, b]) => a === b);
export const subnetMatches = pulumi.all([seenSubnet.id, subnet.id]).apply(([a, b]) => a === b);
TS
ssh-keygen -q -t ed25519 -N "" -C "$PREFIX" -f "$RUN/key"

cd "$P"
export PULUMI_CONFIG_PASSPHRASE="e2e-$$" PULUMI_NODEJS_TRANSPILE_ONLY=true
pulumi login --cloud-url "file://$RUN/backend" >/dev/null
pulumi stack init e2e >/dev/null
pulumi config set prefix "$PREFIX"
pulumi config set ip "$IP"
pulumi config set publicKey "$(cat "$RUN/key.pub")"
pulumi config set authUrl "$OS_AUTH_URL"
pulumi config set userName "$OS_USERNAME"
pulumi config set --secret password "$OS_PASSWORD"
pulumi config set tenantName "$OS_PROJECT_NAME"
pulumi config set region "$OS_REGION_NAME"

t0=$SECONDS
say "pulumi up (program in $P)"
run_pulumi up-1 up --yes --skip-preview
say "pulumi up took $((SECONDS - t0))s"
out="$(pulumi stack output --json)"
printf '%s\n' "$out"
python3 - "$out" "$IP" <<'PY' || die "stack outputs are not what the program asked for"
import json, sys
o, ip = json.loads(sys.argv[1]), sys.argv[2]
assert o["serverIp"] == ip, o["serverIp"]
assert [f["ip_address"] if "ip_address" in f else f for f in o["portIps"]] == [ip], o["portIps"]
assert o["networkMatches"] and o["subnetMatches"]
assert o["serverImageId"] == o["imageId"]
PY
say "stack outputs ok: server and port hold $IP, the data sources find what the program made"

say "checking with the openstack CLI"
port="$(openstack port show "$PREFIX-port" -f json -c fixed_ips -c status -c security_group_ids)"
printf 'port: %s\n' "$(tr -d '\n ' <<<"$port")"
grep -q "\"$IP\"" <<<"$port" || die "port $PREFIX-port does not hold $IP"
srv="$(openstack server show "$PREFIX-server" -f json -c status -c addresses -c flavor -c key_name)"
printf 'server: %s\n' "$(tr -d '\n ' <<<"$srv")"
grep -q '"ACTIVE"' <<<"$srv" || die "server $PREFIX-server is not ACTIVE"
grep -q "$IP" <<<"$srv" || die "server $PREFIX-server does not have $IP"
ud="$(openstack --os-compute-api-version 2.3 server show "$PREFIX-server" -f value -c OS-EXT-SRV-ATTR:user_data)"
base64 -d <<<"$ud" | grep -q "echo groundwork" || die "server $PREFIX-server did not get the user data"
printf 'server user data: %s bytes, as sent\n' "$(base64 -d <<<"$ud" | wc -c)"
grp="$(openstack server group show "$PREFIX-group" -f json -c policy -c policies -c members 2>/dev/null ||
  openstack server group show "$PREFIX-group" -f json)"
printf 'server group: %s\n' "$(tr -d '\n ' <<<"$grp")"
grep -q anti-affinity <<<"$grp" || die "server group $PREFIX-group is not anti-affinity"
grep -q "$(pulumi stack output serverId)" <<<"$grp" || die "server is not a member of $PREFIX-group"
rules="$(openstack security group rule list "$PREFIX-sg" -f value -c 'IP Protocol' -c 'Port Range' -c 'IP Range')"
printf 'security group rules:\n%s\n' "$rules"
grep -q "tcp.*22:22" <<<"$rules" || die "security group $PREFIX-sg has no tcp/22 rule"

t0=$SECONDS
say "second pulumi up must change nothing"
run_pulumi up-2 up --yes --skip-preview --expect-no-changes
say "second pulumi up took $((SECONDS - t0))s"

if [[ $KEEP -eq 1 ]]; then
  say "kept: stack e2e in $P (backend file://$RUN/backend), resources $PREFIX-*"
  exit 0
fi
t0=$SECONDS
say "pulumi destroy"
run_pulumi destroy destroy --yes --skip-preview
say "pulumi destroy took $((SECONDS - t0))s"
left=""
for kind in "server" "port" "network" "security group" "server group" "keypair"; do
  # shellcheck disable=SC2086 # the kind is two words for some resources
  found="$(openstack $kind list -f value -c Name | grep -c "^$PREFIX-" || true)"
  printf '%-13s left: %s\n' "$kind" "$found"
  [[ "$found" == 0 ]] || left="$left $kind"
done
[[ -z "$left" ]] || die "left behind after destroy:$left"
pulumi stack rm --yes e2e >/dev/null
say "all checks passed in $((SECONDS - START))s"
