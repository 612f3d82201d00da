#!/usr/bin/env bash
# Compares the schema the command plugin serves (its GetSchema answer) with what the @pulumi/command
# npm SDK sends and reads:
#   check-schema.sh [plugin binary | schema.json from `pulumi package get-schema`]
# Default: the plugin build.sh installs. Checked, for command:remote:Command and command:local:Command:
# the tokens; every input the SDK sends is served, or refused by the plugin with a message (the
# `notServed` list of inputs.go); the plugin invents no input, output or connection field the SDK
# lacks; the SDK's outputs are served; the logging enums match; connection and keys are secret.
# Prints one summary line; exit status 1 on any mismatch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
SDK="$REPO/node_modules/@pulumi/command"
SRC="${1:-$GROUNDWORK_PULUMI_DIR/bin/command-1.2.1/pulumi-resource-command}"
[[ -f "$SDK/package.json" ]] || { echo "check-schema.sh: no SDK at $SDK (run npm install)" >&2; exit 1; }
[[ -e "$SRC" ]] || { echo "check-schema.sh: no plugin or schema at $SRC (run build.sh first)" >&2; exit 1; }

schema="$(mktemp)"
trap 'rm -f "$schema"' EXIT
if [[ -x "$SRC" && ! "$SRC" == *.json ]]; then
  "$SRC" -schema >"$schema"
else
  cp "$SRC" "$schema"
fi
python3 - "$SDK" "$schema" "$HERE/inputs.go" <<'PY'
import json, re, sys

sdk, schema_file, inputs_go = sys.argv[1:]
schema = json.load(open(schema_file))
not_served = set(re.findall(r'^\s+"([\w.]+)":\s+"', re.search(r"notServed = map\[string\]string\{(.*?)\n\t\}", open(inputs_go).read(), re.S).group(1), re.M))
# Outputs that only exist for a refused input.
not_served_outputs = {"archive": "archivePaths", "assets": "assetPaths"}
errors = []

def sdk_resource(path):
    src = open(f"{sdk}/{path}").read()
    token = re.search(r"__pulumiType = '([^']+)'", src).group(1)
    new_branch = src.split("if (!opts.id) {", 1)[1].split("else {", 1)[0]
    ins = set(re.findall(r'resourceInputs\["(\w+)"\] = [^;\n]*\bargs\b', new_branch))
    outs = set(re.findall(r'resourceInputs\["(\w+)"\] = undefined /\*out\*/', new_branch))
    secret_ins = set(re.findall(r'resourceInputs\["(\w+)"\] = args\?\.\w+ \? pulumi\.secret', new_branch))
    return token, ins, outs, secret_ins

def sdk_interface(name):
    dts = open(f"{sdk}/types/input.d.ts").read()
    body = re.search(r"interface %s \{(.*?)\n    \}" % name, dts, re.S).group(1)
    return set(re.findall(r"^\s+(\w+)\??: ", body, re.M))

def sdk_enum(ns):
    return set(re.findall(r':\s+"(\w+)",', open(f"{sdk}/types/enums/{ns}/index.js").read()))

counts = {"inputs": 0, "outputs": 0}
for path in ("remote/command.js", "local/command.js"):
    token, ins, outs, secret_ins = sdk_resource(path)
    res = schema.get("resources", {}).get(token)
    if res is None:
        errors.append(f"{token}: not in the plugin's schema")
        continue
    s_ins, s_props = set(res.get("inputProperties", {})), set(res.get("properties", {}))
    for p in sorted(s_ins - ins):
        errors.append(f"{token}: input '{p}' is not one the SDK sends")
    for p in sorted(ins - s_ins - not_served):
        errors.append(f"{token}: the SDK sends '{p}', which the plugin neither serves nor refuses")
    for p in sorted((ins & not_served) & s_ins):
        errors.append(f"{token}: '{p}' is both served and refused")
    for p in sorted(outs - s_props):
        if not_served_outputs.get(p) not in not_served:
            errors.append(f"{token}: the SDK reads output '{p}', which the plugin does not serve")
    for p in sorted(s_props - ins - outs):
        errors.append(f"{token}: output '{p}' is not one the SDK reads")
    for p in sorted(secret_ins):
        if not res["inputProperties"].get(p, {}).get("secret"):
            errors.append(f"{token}: the SDK makes '{p}' secret; the schema does not mark it secret")
    ns = token.split(":")[1]
    enum = schema.get("types", {}).get(f"command:{ns}:Logging", {})
    if {e["value"] for e in enum.get("enum", [])} != sdk_enum(ns):
        errors.append(f"command:{ns}:Logging: values differ from the SDK's {sorted(sdk_enum(ns))}")
    counts["inputs"] += len(s_ins)
    counts["outputs"] += len(s_props - s_ins)

def check_fields(type_name, fields, sdk_name, refused):
    """A connection type's fields against the SDK's interface: none invented, none forgotten, keys secret."""
    sdk_fields = sdk_interface(sdk_name)
    for p in sorted(set(fields) - sdk_fields):
        errors.append(f"{type_name}: field '{p}' is not in the SDK's {sdk_name}")
    for p in sorted(sdk_fields - set(fields) - refused):
        errors.append(f"{type_name}: the SDK's '{p}' is neither served nor refused")
    for p in ("privateKey", "password", "privateKeyPassword"):
        if p in fields and not fields[p].get("secret"):
            errors.append(f"{type_name}: '{p}' is not marked secret")

types = schema.get("types", {})
conn = types.get("command:remote:Connection", {}).get("properties", {})
check_fields("command:remote:Connection", conn, "ConnectionArgs", {p.split(".", 1)[1] for p in not_served if p.startswith("connection.") and p.count(".") == 1})
# The proxy (jump host): the SDK's ProxyConnectionArgs, field for field.
proxy = types.get("command:remote:ProxyConnection", {}).get("properties", {})
if "proxy" in conn and conn["proxy"].get("$ref") != "#/types/command:remote:ProxyConnection":
    errors.append("command:remote:Connection: 'proxy' does not refer to command:remote:ProxyConnection")
check_fields("command:remote:ProxyConnection", proxy, "ProxyConnectionArgs", {p.split(".", 2)[2] for p in not_served if p.startswith("connection.proxy.")})

for e in errors:
    print("check-schema:", e, file=sys.stderr)
status = "MISMATCH" if errors else "ok"
print(f"schema check {status}: 2 resources (command:remote:Command, command:local:Command), "
      f"{counts['inputs']} inputs, {counts['outputs']} outputs, {len(conn)} connection fields, {len(proxy)} proxy fields against "
      f"@pulumi/command {json.load(open(sdk + '/package.json'))['version']}; refused with a message: "
      f"{', '.join(sorted(not_served))}; {len(errors)} problems")
sys.exit(1 if errors else 0)
PY
