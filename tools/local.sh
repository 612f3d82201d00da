#!/usr/bin/env bash
# The embedded default: the `local` stack through the real Pulumi engine against a real
# OpenStack API on loopback.
#   local.sh up        build/reuse the toolchain, start OpenStack, `pulumi up --yes`, print outputs
#   local.sh down      `pulumi destroy --yes`, then stop the OpenStack services this repo started
#   local.sh prepare   only the set-up (npm ci, toolchain, OpenStack) — used by the integration tests
#   local.sh pulumi …  run the built `pulumi` CLI with the local stack's environment
# State: .state/pulumi (file backend), .state/openstack (services). The local stack's secrets use
# the passphrase "groundwork-local" (override with PULUMI_CONFIG_PASSPHRASE): nothing in it grants
# access to anything beyond this machine's loopback OpenStack.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
START=$SECONDS
say() { printf '[local %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'local.sh: %s\n' "$*" >&2; exit 2; }

# shellcheck source-path=SCRIPTDIR source=toolchain/env.sh
source "$REPO/tools/toolchain/env.sh"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$REPO/.state/pulumi}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-groundwork-local}"
STACK="${GROUNDWORK_LOCAL_STACK:-local}"
OPENSTACK="$REPO/tools/openstack/local.sh"

prepare() {
  # A node_modules that is a symlink (a worktree sharing another checkout's) is never reinstalled
  # here: npm ci would empty the folder it points to under every other user of it.
  if [ -L node_modules ]; then
    [ -e node_modules/@pulumi/pulumi ] ||
      { echo "node_modules links to $(readlink -f node_modules), which lacks @pulumi/pulumi: run npm ci there" >&2; exit 1; }
  elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  say "Pulumi toolchain (CLI, Node.js language host, openstack plugin) — built from Go modules on first use"
  bash tools/toolchain/build.sh cli nodejs
  bash tools/toolchain/openstack-bridge/build.sh
  say "local OpenStack"
  "$OPENSTACK" start
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
}

os_env() { eval "$("$OPENSTACK" env)"; }

select_stack() {
  if ! pulumi stack select "$STACK" >/dev/null 2>&1; then
    say "creating stack $STACK in ${PULUMI_BACKEND_URL}"
    pulumi stack init "$STACK" --secrets-provider passphrase >/dev/null
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  prepare) prepare ;;
  up)
    prepare
    os_env
    select_stack
    say "pulumi up --yes (stack $STACK)"
    pulumi up --yes --stack "$STACK" "$@"
    say "outputs"
    pulumi stack output --stack "$STACK" --json
    say "done — tear down with: npm run local:down"
    ;;
  down)
    if command -v pulumi >/dev/null && pulumi stack select "$STACK" >/dev/null 2>&1; then
      if "$OPENSTACK" status >/dev/null 2>&1; then
        os_env
        say "pulumi destroy --yes (stack $STACK)"
        pulumi destroy --yes --stack "$STACK" "$@"
      else
        say "OpenStack is not running; nothing to destroy through it (the stack's state stays in .state/pulumi)"
      fi
    fi
    "$OPENSTACK" stop
    ;;
  pulumi)
    os_env
    pulumi "$@"
    ;;
  *) die "usage: local.sh up|down|prepare|pulumi …" ;;
esac
