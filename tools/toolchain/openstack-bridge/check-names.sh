#!/usr/bin/env bash
# Compares the property names the built plugin uses with those the @pulumi/openstack npm SDK sends:
#   check-names.sh [--all] [plugin binary]
# Default binary: the one build.sh installs. Without --all only the tokens groundwork uses are
# listed in full; the others are summed up. Exit status 1 when a token groundwork uses has an
# input the plugin does not know or that is an array on one side only, beyond the known drift below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
SDK="$REPO/node_modules/@pulumi/openstack"
ALL=0
if [[ "${1:-}" == --all ]]; then
  ALL=1
  shift
fi
BIN="${1:-$GROUNDWORK_PULUMI_DIR/bin/openstack-3.15.2/pulumi-resource-openstack}"
[[ -x "$BIN" ]] || { echo "check-names.sh: no plugin at $BIN (run build.sh first)" >&2; exit 1; }
[[ -f "$SDK/package.json" ]] || { echo "check-names.sh: no SDK at $SDK (run npm install)" >&2; exit 1; }

names="$(mktemp)"
trap 'rm -f "$names"' EXIT
"$BIN" -dump-names >"$names"
python3 - "$SDK" "$names" "$ALL" <<'PY'
import json, os, re, sys

sdk, names_file, show_all = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
plugin = json.load(open(names_file))
USED = """compute/instance:Instance compute/keypair:Keypair compute/serverGroup:ServerGroup
networking/network:Network networking/subnet:Subnet networking/port:Port networking/secGroup:SecGroup
networking/secGroupRule:SecGroupRule networking/getNetwork:getNetwork networking/getSubnet:getSubnet
images/getImage:getImage""".split()
USED = {"openstack:" + t for t in USED} | {"openstack"}
# Inputs of the 3.15.2 SDK that terraform-provider-openstack v3 no longer has (not naming errors;
# groundwork sets none of them).
DRIFT = {
    "openstack:compute/instance:Instance": {"floatingIp", "volumes", "networks[].floatingIp"},
    "openstack:images/getImage:getImage": {"sortKey", "sortDirection"},
    "openstack:networking/getSubnet:getSubnet": {"dhcpDisabled"},
    "openstack:networking/subnet:Subnet": {"allocationPoolsCollection", "hostRoutes"},
    "openstack": {"useOctavia"},
}

# The SDK's view: token -> (inputs, all properties); nested input types per module namespace;
# which properties are arrays (per .d.ts file, and per nested type).
sdk_props, sdk_types, sdk_arrays, type_arrays = {}, {}, {}, {}
PROP = re.compile(r"^\s+(?:readonly )?(\w+)\??: (.*);$")
for root, _, files in os.walk(sdk):
    if "node_modules" in os.path.relpath(root, sdk):
        continue
    for f in files:
        path = os.path.join(root, f)
        if f.endswith(".js") and f != "index.js":
            src = open(path).read()
            m = re.search(r"__pulumiType = '([^']+)'", src)
            if m:
                keys = set(re.findall(r'resourceInputs\["(\w+)"\]', src))
                ins = set(re.findall(r'resourceInputs\["(\w+)"\] = [^;\n]*\bargs\b', src))
                sdk_props[m.group(1)] = (ins, keys)
                sdk_arrays[m.group(1)] = {p.group(1) for p in map(PROP.match, open(path[:-3] + ".d.ts"))
                                          if p and "[]" in p.group(2)}
                continue
            m = re.search(r'invoke\("([^"]+)", \{(.*?)\}', src, re.S)
            if m:
                ins = set(re.findall(r'"(\w+)":', m.group(2)))
                dts = open(path[:-3] + ".d.ts").read()
                res = re.search(r"export interface Get\w*Result \{(.*?)\n\}", dts, re.S)
                outs = set(re.findall(r"readonly (\w+)\??:", res.group(1))) if res else set()
                sdk_props[m.group(1)] = (ins, ins | outs)
                sdk_arrays[m.group(1)] = {p.group(1) for p in map(PROP.match, dts.splitlines()) if p and "[]" in p.group(2)}
        elif f == "input.d.ts":
            ns = None
            for line in open(path):
                m = re.match(r"export declare namespace (\w+)|export namespace (\w+)", line.strip())
                if m:
                    ns = m.group(1) or m.group(2)
                m = re.match(r"\s*(?:export )?interface (\w+) \{", line)
                if m:
                    cur, cur_name = sdk_types.setdefault((ns, m.group(1)), set()), m.group(1)
                m = re.match(r"\s{8}(\w+)\??: (.*);$", line)
                if m and ns:
                    cur.add(m.group(1))
                    if "[]" in m.group(2):
                        type_arrays.setdefault((ns, cur_name), set()).add(m.group(1))

def sdk_sub_in(key):
    return sdk_types.get(key, set())  # nested SDK types mix inputs and outputs; all count

def pascal(s):
    return "".join(p[:1].upper() + p[1:] for p in s.split("_"))

bad_used, counts = 0, {"tokens": 0, "ok": 0, "mismatched": 0, "not in sdk": 0}
for tok in sorted(plugin):
    counts["tokens"] += 1
    fields = plugin[tok]
    if tok.startswith("pulumi:providers:"):
        tok = tok.split(":")[-1]  # the SDK's Provider resource type is just the package name
    if tok not in sdk_props:
        counts["not in sdk"] += 1
        continue
    p_in = {n for n, f in fields.items() if f["input"]} - {"id"}
    p_all = set(fields) - {"id"}
    s_in, s_all = sdk_props[tok]
    s_in, s_all = s_in - {"id"}, s_all - {"id"}
    problems, unexpected = [], set()
    unexpected |= s_in - p_all
    if s_in - p_all:
        problems.append("SDK inputs the plugin does not know: " + ", ".join(sorted(s_in - p_all)))
    if (s_all - s_in) - p_all:
        problems.append("SDK outputs the plugin lacks: " + ", ".join(sorted((s_all - s_in) - p_all)))
    if p_in - s_all:
        problems.append("plugin inputs the SDK cannot send: " + ", ".join(sorted(p_in - s_all)))
    shape = sorted(n for n in (s_all & p_all) if fields[n]["list"] != (n in sdk_arrays.get(tok, set())))
    unexpected |= {n for n in shape if n in s_in}
    if shape:
        problems.append("array in one, single value in the other: " + ", ".join(
            f"{n} (SDK {'array' if n in sdk_arrays.get(tok, set()) else 'single'})" for n in shape))
    mod, res = (tok.split(":")[1].split("/")[0], tok.split(":")[2]) if ":" in tok else ("index", "Provider")
    for name, f in sorted(fields.items()):
        if not f.get("fields") or not f["input"] or res.startswith("get"):
            continue
        cands = [(mod, res + pascal(f["tf"])), (mod, res + pascal(f["tf"].rstrip("s"))),
                 (mod, res + pascal(name.rstrip("s")))]
        key = next((c for c in cands if c in sdk_types), None)
        sdk_sub = sdk_types.get(key)
        sub = set(f["fields"])  # SDK input types list a block's computed fields too
        if sdk_sub is None:
            problems.append(f"{name}: no SDK input type {cands[0][1]}")
        elif sub != sdk_sub:
            d = []
            unexpected |= {f"{name}[].{n}" for n in sdk_sub - sub if n in sdk_sub_in(key)}
            if sdk_sub - sub:
                d.append("SDK only: " + ", ".join(sorted(sdk_sub - sub)))
            if sub - sdk_sub:
                d.append("plugin only: " + ", ".join(sorted(sub - sdk_sub)))
            problems.append(f"{name}[]: " + "; ".join(d))
        if sdk_sub is not None:
            arr = type_arrays.get(key, set())
            bad = sorted(n for n in sub & sdk_sub if f["fields"][n]["list"] != (n in arr))
            if bad:
                problems.append(f"{name}[]: array in one, single value in the other: " + ", ".join(bad))
    counts["mismatched" if problems else "ok"] += 1
    if tok in USED and unexpected - DRIFT.get(tok, set()):
        bad_used += 1
        problems.append("UNEXPECTED: " + ", ".join(sorted(unexpected - DRIFT.get(tok, set()))))
    if tok in USED or (show_all and problems):
        mark = "ok " if not problems else "DIFF"
        print(f"{mark} {tok} ({len(p_all)} properties)")
        for p in problems:
            print(f"       {p}")
missing = sorted(set(sdk_props) - set(plugin) - {"openstack"})
print(f"\nplugin tokens {counts['tokens']}: same names as the SDK {counts['ok']}, differing "
      f"{counts['mismatched']}, not in the SDK {counts['not in sdk']}")
print(f"SDK tokens without a Terraform type in this provider version ({len(missing)}): " + " ".join(
    t.split(":")[-1] for t in missing))
print(f"groundwork's tokens with unexpected differences: {bad_used}")
sys.exit(1 if bad_used else 0)
PY
