#!/usr/bin/env bash
# `npm test`: everything, from a fresh clone. Installs what it needs (npm ci when node_modules is
# missing or stale, Debian packages for the real validators), then runs, in order:
#   1. tsc --noEmit                       (type check, its own step)
#   2. unit + component tests             (mocha, ts-node transpile-only; cloud-init schema, shellcheck,
#                                          kubeadm, a loopback kube-apiserver and the node binaries (CoreDNS,
#                                          kube-vip, flannel, CNI plugins, crictl, pause) built first from Go
#                                          modules by tools/kubernetes/build.sh, cached; GROUNDWORK_K8S_BIN points at them;
#                                          vcsim + govc from govmomi for the migration planner, cached)
#   3. real-guest tests                   (qemu guests booting the rendered bootstrap)
#   4. real-engine integration tests      (Pulumi built from Go modules against OpenStack on loopback)
#   5. the real air-gapped cluster        (three guests on a private L2 segment: registry seeded by
#                                          groundwork seed, kubeadm init and join, flannel, the apps; test/guest/cluster/)
# Stages can be chosen: tools/test.sh unit guest integration cluster (default: all four); on demand:
# registry-guest (the standalone registry through cloud-init; the cluster stage covers it on bare metal)
# and upgrade (the cluster stage, then its rolling upgrade 1.33 → 1.34 in the guests).
# Ends with one line "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
START=$SECONDS
say() { printf '[test %4ds] %s\n' "$((SECONDS - START))" "$*"; }

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit guest integration cluster)

# A node_modules that is a symlink (a worktree sharing another checkout's) is never reinstalled
# here: npm ci would empty the folder it points to under every other user of it.
if [ -L node_modules ]; then
  [ -e node_modules/@pulumi/pulumi ] ||
    { echo "node_modules links to $(readlink -f node_modules), which lacks @pulumi/pulumi: run npm ci there" >&2; exit 1; }
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash tools/deps.sh validators

passed=0; failed=0; status=0
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
run_mocha() { # label, mocha args…
  local label=$1; shift
  say "$label"
  set +e
  TS_NODE_TRANSPILE_ONLY=1 node_modules/.bin/mocha "$@" 2>&1 | tee "$LOG"
  local rc=${PIPESTATUS[0]}
  set -e
  local p f
  p=$(grep -Eo '^ +[0-9]+ passing' "$LOG" | grep -Eo '[0-9]+' | tail -n 1 || true)
  f=$(grep -Eo '^ +[0-9]+ failing' "$LOG" | grep -Eo '[0-9]+' | tail -n 1 || true)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then status=1; [ -n "$f" ] || failed=$((failed + 1)); fi
}

for stage in "${stages[@]}"; do
  case "$stage" in
    unit)
      say "tsc --noEmit"
      if ! node_modules/.bin/tsc --noEmit -p .; then status=1; failed=$((failed + 1)); fi
      say "kubernetes binaries (tools/kubernetes/build.sh; cached after the first run)"
      bash tools/deps.sh build # gcc for pause
      if bash tools/kubernetes/build.sh; then
        # shellcheck source-path=SCRIPTDIR source=kubernetes/env.sh
        source tools/kubernetes/env.sh
      else
        # The oracle tests then fail, each naming the missing binary.
        status=1; failed=$((failed + 1))
      fi
      # vcsim and govc (Go modules) for test/workloads/govc-vcsim.test.ts: built once into the cache.
      t=$SECONDS
      bash tools/vcsim/build.sh >/dev/null
      say "vcsim + govc ready ($((SECONDS - t)) s)"
      run_mocha "unit and component tests" ;;
    guest)
      run_mocha "real-guest tests" --config test/guest/.mocharc.json ;;
    registry-guest)
      # On demand (not in the default stages, to keep a cold run within 80 minutes): the standalone
      # registry booted by cloud-init; the cluster stage checks the same rendered registry (TLS, auth,
      # the key's owner, mirrored pulls) on the bare-metal path.
      run_mocha "standalone registry in real guests (on demand)" --config test/guest/.mocharc.registry.json ;;
    upgrade)
      # On demand: the real cluster stage, then its rolling upgrade to the next minor (the version
      # tools/kubernetes/build.sh --next builds: about 11 more minutes of Go builds the first time),
      # with the API polled through the VIP every second.
      bash tools/deps.sh build; bash tools/deps.sh validators
      export GROUNDWORK_UPGRADE_TO="${GROUNDWORK_UPGRADE_TO:-1.34.4}"
      run_mocha "real cluster in guests, upgraded to $GROUNDWORK_UPGRADE_TO (on demand)" --config test/guest/cluster/.mocharc.json ;;
    integration)
      run_mocha "real-engine integration tests" --config test/integration/.mocharc.json ;;
    cluster)
      bash tools/deps.sh build; bash tools/deps.sh validators
      run_mocha "real cluster in guests" --config test/guest/cluster/.mocharc.json ;;
    *) echo "tools/test.sh: unknown stage '$stage'; stages: unit guest integration cluster, and on demand registry-guest upgrade" >&2; exit 2 ;;
  esac
done
say "done"
echo "tests: $passed passed, $failed failed"
exit "$status"
