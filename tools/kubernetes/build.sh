#!/usr/bin/env bash
# shellcheck disable=SC2317 # the builders are called indirectly, as "${builder}_wrapper"
# Builds Kubernetes binaries from Go modules into the groundwork cache:
#   build.sh [--keep-going] [--check] [component...]
# Components are rows of the TABLE below (default: every row). Each finished component is kept under
#   $GROUNDWORK_CACHE/kubernetes/build/<component>/   (its key in .key: versions, this script, Go)
# and skipped on the next run while its key is unchanged. $GROUNDWORK_CACHE/kubernetes/bin/ holds one
# symlink per binary of every component built; `source tools/kubernetes/env.sh` exports it as
# GROUNDWORK_K8S_BIN. Binaries are static (CGO_ENABLED=0), -trimpath, stripped (-s -w).
# --check builds nothing: exit 0 when every component asked for is cached under its current key.
# One build at a time per cache (a lock in the cache folder).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"
DIR="$GROUNDWORK_K8S_DIR"
GO_JOBS=2 # two cores are shared with other work

# One row per component: name | builder | module | version | binaries (main packages for `gomain`).
# Builders: kubernetes (k8s.io/kubernetes with its staging modules at v0.<minor>.<patch>),
# etcd (a small main of our own around etcdmain, plus etcdctl). A new component is a new row, and
# a new builder only when the module needs wrapping of its own.
TABLE=(
  "kubernetes-v1.33.13|kubernetes|k8s.io/kubernetes|v1.33.13|kubeadm kubectl kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy"
  "etcd-v3.5.21|etcd|go.etcd.io/etcd/server/v3|v3.5.21|etcd etcdctl"
)

START=$SECONDS
say() { printf '[kubernetes %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'tools/kubernetes/build.sh: %s\n' "$*" >&2; exit 1; }

declare -A ROW
NAMES=()
for row in "${TABLE[@]}"; do
  ROW[${row%%|*}]="$row"
  NAMES+=("${row%%|*}")
done

KEEP_GOING=0
CHECK=0
WANT=()
for arg in "$@"; do
  case "$arg" in
    --keep-going) KEEP_GOING=1 ;;
    --check) CHECK=1 ;;
    -h | --help) printf 'usage: build.sh [--keep-going] [--check] [component...]\n  components: %s\n' "${NAMES[*]}"; exit 0 ;;
    -*) die "unknown option '$arg'" ;;
    *) [[ -n "${ROW[$arg]:-}" ]] || die "unknown component '$arg'; components: ${NAMES[*]}"; WANT+=("$arg") ;;
  esac
done
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${NAMES[@]}")

command -v go >/dev/null || die "Go 1.24 or later is needed on PATH (Debian 12's golang is 1.19, too old)"
GO_VERSION="$(go env GOVERSION)"
[[ "$(printf '%s\n' go1.24 "$GO_VERSION" | sort -V | head -n1)" == go1.24 ]] ||
  die "Go 1.24 or later is needed, found $GO_VERSION"

mkdir -p "$DIR/build" "$DIR/bin" "$DIR/logs" "$DIR/work"
exec 9>"$DIR/.lock"
flock -n 9 || die "another build.sh is building in $DIR (lock $DIR/.lock); wait for it to finish"
export GOMODCACHE="$DIR/gomod" GOCACHE="$DIR/gocache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -mod=mod" CGO_ENABLED=0

# refused <log> <module@version>: when the Go module proxy refused a module, one line naming it and what to do.
refused() {
  local log="$1" asked="$2" hit
  hit="$(grep -Eo '[A-Za-z0-9./_~-]+@v[0-9][A-Za-z0-9.+_-]*: (reading|verifying)[^"]*' "$log" | head -n 1 || true)"
  [[ -n "$hit" ]] || return 1
  printf 'tools/kubernetes/build.sh: the Go module proxy %s refused %s (%s) while building %s: pick a version it serves (shared/recipes/go-modules-served.md) in the TABLE of tools/kubernetes/build.sh, or point GOPROXY at a proxy that has it\n' \
    "$(go env GOPROXY)" "${hit%%:*}" "$(printf '%s' "${hit#*: }" | grep -Eo '[0-9]{3} [A-Za-z ]+$|[^:]+$' | head -n 1 | sed 's/^ *//')" "$asked" >&2
}

# download <module> <version> <field>: fetch module@version, print one field of `go mod download -json`.
download() {
  (cd "$DIR/work" && go mod download -json "$1@$2") | python3 -c \
    'import json,sys; d=json.load(sys.stdin); e=d.get("Error"); e and print(e, file=sys.stderr); print(d.get(sys.argv[1]) or ""); sys.exit(1 if e else 0)' "$3"
}

# kubernetes_wrapper <workdir> <version>: a module requiring k8s.io/kubernetes, its requires copied
# with every staging module at v0.<minor>.<patch> and its ./staging replaces pointed at those.
kubernetes_wrapper() {
  local work="$1" version="$2" gomod
  gomod="$(download k8s.io/kubernetes "$version" GoMod)" || return 1
  python3 - "$gomod" "$version" >"$work/go.mod" <<'PY'
import re, sys
src, version = open(sys.argv[1]).read(), sys.argv[2]
staging = "v0." + version[len("v1."):]
out = ["module groundwork.local/kubernetes-build", ""]
for line in src.splitlines():
    if line.startswith("module "):
        continue
    line = re.sub(r"^(\s*k8s\.io/[\w.-]+) v0\.0\.0$", r"\1 " + staging, line)
    line = re.sub(r"^(\s*(k8s\.io/[\w.-]+)) => \./staging/src/k8s\.io/[\w.-]+$", r"\1 => \2 " + staging, line)
    out.append(line)
out += ["", "require k8s.io/kubernetes " + version]
print("\n".join(out))
PY
}

etcd_wrapper() { # <workdir> <version>
  local work="$1" version="$2"
  download go.etcd.io/etcd/server/v3 "$version" Dir >/dev/null || return 1
  cat >"$work/go.mod" <<EOF
module groundwork.local/etcd-build

go 1.23

require (
	go.etcd.io/etcd/server/v3 $version
	go.etcd.io/etcd/etcdctl/v3 $version
)
EOF
  mkdir -p "$work/etcd"
  # etcd's own main.go is this one call; the server module's go.mod replaces keep it from being built directly.
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
    >"$work/etcd/main.go"
}

# ldflags <builder> <version> <info-json>: the version stamps the tools print and kubeadm checks.
ldflags() {
  local builder="$1" version="$2" info="$3" flags="-s -w" date minor pkg
  case "$builder" in
    kubernetes)
      date="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Time"])' "$info")"
      minor="${version#v1.}"; minor="${minor%%.*}"
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
      done ;;
  esac
  printf '%s' "$flags"
}

package_of() { # <builder> <module> <binary>
  case "$1" in
    kubernetes) printf 'k8s.io/kubernetes/cmd/%s' "$3" ;;
    etcd) if [[ "$3" == etcd ]]; then printf './etcd'; else printf 'go.etcd.io/etcd/etcdctl/v3'; fi ;;
  esac
}

build_component() { # <name> <outdir> -> prints "binary seconds" per binary on fd 3
  local name="$1" out="$2" builder module version binaries work info flags bin pkg t0
  IFS='|' read -r _ builder module version binaries <<<"${ROW[$name]}"
  work="$DIR/work/$name"
  rm -rf "$work"
  mkdir -p "$work" || return 1
  say "$name: fetching $module@$version"
  # Called as an `if` condition, so `set -e` does not apply here: every step returns on failure.
  "${builder}_wrapper" "$work" "$version" || return 1
  info="$GOMODCACHE/cache/download/$module/@v/$version.info"
  flags="$(ldflags "$builder" "$version" "$info")"
  for bin in $binaries; do
    pkg="$(package_of "$builder" "$module" "$bin")"
    t0=$SECONDS
    (cd "$work" && nice -n 10 go build -p "$GO_JOBS" -trimpath -tags selinux,notest -ldflags "$flags" -o "$out/$bin" "$pkg") || return 1
    printf '%s %s\n' "$bin" "$((SECONDS - t0))" >&3
    say "$name: $bin built in $((SECONDS - t0))s ($(du -m "$out/$bin" | cut -f1) MiB)"
  done
}

FAILED=0
for name in "${WANT[@]}"; do
  IFS='|' read -r _ builder module version binaries <<<"${ROW[$name]}"
  out="$DIR/build/$name"
  key="$( { printf '%s\n' "${ROW[$name]}" "$GO_VERSION"; cat "$HERE/build.sh"; } | sha256sum | cut -d' ' -f1)"
  log="$DIR/logs/$name.log"
  if [[ "$(cat "$out/.key" 2>/dev/null)" == "$key" ]]; then
    say "$name: cached ($out)"
  elif [[ $CHECK -eq 1 ]]; then
    printf 'tools/kubernetes/build.sh: %s is not built under its current key; run tools/kubernetes/build.sh\n' "$name" >&2
    FAILED=1
    continue
  else
    say "$name: building $binaries (log: $log)"
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    t0=$SECONDS
    if build_component "$name" "$out.tmp" 3>"$out.tmp/.times" >"$log" 2>&1; then
      while read -r bin secs; do say "$name: $bin built in ${secs}s"; done <"$out.tmp/.times"
      rm -rf "$out"
      mv "$out.tmp" "$out"
      printf '%s\n' "$key" >"$out/.key"
      say "$name: done in $((SECONDS - t0))s"
    else
      rm -rf "$out.tmp"
      refused "$log" "$name" ||
        { printf 'tools/kubernetes/build.sh: building %s failed after %ss; last lines of %s:\n' \
            "$name" "$((SECONDS - t0))" "$log" >&2; tail -n 15 "$log" >&2; }
      FAILED=1
      [[ $KEEP_GOING -eq 1 ]] || exit 1
      continue
    fi
  fi
  for bin in $binaries; do
    ln -sfn "../build/$name/$bin" "$DIR/bin/$bin"
    printf '  %-26s %4s MiB\n' "$bin" "$(du -mL "$DIR/bin/$bin" | cut -f1)"
  done
done
say "done: binaries in $DIR/bin"
exit "$FAILED"
