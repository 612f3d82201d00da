#!/usr/bin/env bash
# Smoke test of the toolchain built by build.sh: a real `pulumi up` / `destroy` of a small
# Node.js program against a local file backend, with no network.
#   smoke.sh [node_modules dir]   (default: the repo's node_modules)
# It proves the CLI, the language host (config, secrets, stack outputs, a component) and, when
# built, the kubernetes plugin (a ConfigMap rendered to a directory; no cluster needed).
# Everything it creates lives in one temporary directory, removed at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"
MODULES="${1:-$HERE/../../node_modules}"
START=$SECONDS
say() { printf '[smoke %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'smoke.sh: %s\n' "$*" >&2; exit 1; }

command -v pulumi >/dev/null || die "no pulumi CLI: run tools/toolchain/build.sh first"
command -v pulumi-language-nodejs >/dev/null || die "no language host: run tools/toolchain/build.sh nodejs"
[[ -d "$MODULES/@pulumi/pulumi" ]] || die "no @pulumi/pulumi in $MODULES: run npm install first"
MODULES="$(cd "$MODULES" && pwd)"

K8S_VERSION="$(pulumi plugin ls --json | python3 -c '
import json, sys
print(next((p["version"] for p in json.load(sys.stdin) if p["name"] == "kubernetes"), ""))')"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/state" "$TMP/prog" "$TMP/render"
cd "$TMP/prog"
ln -s "$MODULES" node_modules
printf 'name: smoke\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n' >Pulumi.yaml
printf '{"name": "smoke", "main": "index.js"}\n' >package.json
cat >index.js <<'EOF'
"use strict";
const pulumi = require("@pulumi/pulumi");
const cfg = new pulumi.Config();
class Box extends pulumi.ComponentResource {
  constructor(name, opts) {
    super("smoke:index:Box", name, {}, opts);
    this.registerOutputs({});
  }
}
const box = new Box("box");
exports.greeting = `hello ${cfg.require("who")}`;
exports.tokenLength = cfg.requireSecret("token").apply((t) => t.length);
const k8sVersion = cfg.get("k8sVersion");
if (k8sVersion) {
  const k8s = require("@pulumi/kubernetes");
  const provider = new k8s.Provider("render", { renderYamlToDirectory: cfg.require("renderDir") },
    { parent: box, version: k8sVersion });
  const cm = new k8s.core.v1.ConfigMap("cm", { metadata: { name: "smoke" }, data: { who: cfg.require("who") } },
    { provider, parent: box, version: k8sVersion });
  exports.configMap = cm.metadata.name;
}
EOF

export PULUMI_CONFIG_PASSPHRASE="smoke-only"
pulumi login "file://$TMP/state" >/dev/null
pulumi stack init dev >/dev/null 2>&1
pulumi config set who world
pulumi config set --secret token abc123
pulumi config set renderDir "$TMP/render"
if [[ -n "$K8S_VERSION" ]]; then
  pulumi config set k8sVersion "$K8S_VERSION"
  say "kubernetes plugin $K8S_VERSION found: rendering a ConfigMap too"
fi

say "pulumi up"
pulumi up --yes --skip-preview >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log" >&2; die "pulumi up failed"; }
greeting="$(pulumi stack output greeting)"
length="$(pulumi stack output tokenLength --show-secrets)"
[[ "$greeting" == "hello world" ]] || die "greeting output is '$greeting', expected 'hello world'"
[[ "$length" == "6" ]] || die "tokenLength output is '$length', expected 6"
[[ "$(pulumi stack output tokenLength)" == "[secret]" ]] || die "tokenLength is not a secret"
count="$(pulumi stack export | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deployment"]["resources"]))')"
say "up done: greeting='$greeting', tokenLength=$length (secret), $count resources in state"
if [[ -n "$K8S_VERSION" ]]; then
  manifest="$(grep -rl 'name: smoke' "$TMP/render" || true)"
  [[ -n "$manifest" ]] || die "the kubernetes plugin rendered no ConfigMap into $TMP/render"
  say "kubernetes plugin rendered $(basename "$manifest")"
fi

say "pulumi destroy"
pulumi destroy --yes >"$TMP/destroy.log" 2>&1 || { cat "$TMP/destroy.log" >&2; die "pulumi destroy failed"; }
left="$(pulumi stack export | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deployment"].get("resources") or []))')"
[[ "$left" == "0" ]] || die "$left resources left after destroy"
pulumi stack rm --yes >/dev/null
say "passed: up + destroy, 0 resources left"
