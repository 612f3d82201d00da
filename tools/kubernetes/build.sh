#!/usr/bin/env bash
# shellcheck disable=SC2317 # the builders are called indirectly, as "${builder}_wrapper" and "${builder}_build"
# Builds the Kubernetes binaries (control plane, node tools, CNI plugins, pause) from Go modules
# into the groundwork cache:
#   build.sh [--keep-going] [--check] [component...]
# Components are rows of the TABLE below (default: every row). Each finished component is kept under
#   $GROUNDWORK_CACHE/kubernetes/build/<component>/
# and skipped on the next run while its key (in .key) is unchanged. The key covers only what shapes
# that component: its TABLE row, its compiler (`go env GOVERSION`; gcc and glibc for pause) and the
# text (`declare -f`) of the functions that build it: build_component, its builder's
# <builder>_wrapper and <builder>_build, and every function those name, to the end of the chain.
# Adding a row or a builder leaves every other component's key alone.
# $GROUNDWORK_CACHE/kubernetes/bin/ holds one symlink per binary of every component built;
# `source tools/kubernetes/env.sh` exports it as GROUNDWORK_K8S_BIN. Binaries are static
# (CGO_ENABLED=0; pause with gcc -static), -trimpath, stripped (-s -w; strip for pause).
# --check builds nothing: exit 0 when every component asked for is cached under its current key.
# One build at a time per cache (a lock in the cache folder).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh disable=SC1091 # followed with shellcheck -x
source "$HERE/env.sh"
DIR="$GROUNDWORK_K8S_DIR"
GO_JOBS=2 # two cores are shared with other work

# One row per component: name | builder | module | version | binaries | stamps
#   binaries  each `name`, or `name=path` for the main package (C source for pause) at that path in
#             the module (`.`: the module root)
#   stamps    version flags (-X for Go, -D for C); {version} is the row's, {commit} the tag's commit
#             as the proxy's .info records it ({commit7}: its first 7 hex digits; empty when the .info
#             has none), {date} the .info's Time
# Builders:
#   kubernetes  k8s.io/kubernetes with its staging modules at v0.<minor>.<patch> (its stamps are its own)
#   etcd        a small main of our own around etcdmain, plus etcdctl
#   gomain      a module at a version and some of its main packages: a wrapper module requiring it
#               (`go get module@version`, so the build list is the module's own go.mod), `go build` each
#   flannel     gomain for flanneld, with two changes upstream's build does not need (see flannel_wrapper)
#   pause       build/pause/linux/pause.c from the kubernetes module, as build/pause/Makefile compiles it
#   coredns     gomain, with a main of our own: upstream's plugins but those built on cloud SDKs (see coredns_wrapper)
# A new component is a new row, and a new builder only when the module needs wrapping of its own.
TABLE=(
  "kubernetes-v1.33.13|kubernetes|k8s.io/kubernetes|v1.33.13|kubeadm kubectl kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy"
  "etcd-v3.5.21|etcd|go.etcd.io/etcd/server/v3|v3.5.21|etcd etcdctl"
  "coredns-v1.12.1|coredns|github.com/coredns/coredns|v1.12.1|coredns|-X github.com/coredns/coredns/coremain.GitCommit={commit7}"
  "kube-vip-v0.9.1|gomain|github.com/kube-vip/kube-vip|v0.9.1|kube-vip=.|-X main.Version={version} -X main.Build={commit}"
  "flannel-v0.28.4|flannel|github.com/flannel-io/flannel|v0.28.4|flanneld|-X github.com/flannel-io/flannel/pkg/version.Version={version}"
  "cni-plugins-v1.6.2|gomain|github.com/containernetworking/plugins|v1.6.2|bridge=plugins/main/bridge host-local=plugins/ipam/host-local loopback=plugins/main/loopback portmap=plugins/meta/portmap|-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={version}"
  # The flannel CNI meta plugin: github.com/flannel-io/cni-plugin is not served; v0.9.1 is the last
  # containernetworking/plugins with plugins/meta/flannel (CNI spec 0.1.0–0.4.0, not 1.0.0).
  "cni-flannel-v0.9.1|gomain|github.com/containernetworking/plugins|v0.9.1|flannel=plugins/meta/flannel|-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={version}"
  "cri-tools-v1.34.0|gomain|sigs.k8s.io/cri-tools|v1.34.0|crictl=cmd/crictl|-X sigs.k8s.io/cri-tools/pkg/version.Version={version}"
  # Workload images the real cluster runs (tools/images/workload-images.ts): the web API role's
  # default image (hashicorp/http-echo, a static binary on scratch) and the queue's NATS server.
  "http-echo-v1.0.0|gomain|github.com/hashicorp/http-echo|v1.0.0|http-echo=."
  "nats-server-v2.15.2|gomain|github.com/nats-io/nats-server/v2|v2.15.2|nats-server=."
  # pause 3.10, the sandbox image of Kubernetes 1.33 (components/cluster/versions.ts); its Linux source
  # has not changed since (3.10.1 changed the Windows image only).
  "pause-3.10|pause|k8s.io/kubernetes|v1.33.13|pause=build/pause/linux/pause.c|-DVERSION=v3.10-groundwork"
)

# The upgrade target: the next minor's rows (components/cluster/versions.ts, 1.34), built only with
# --next, for the guest cluster's 1.33 → 1.34 upgrade (tools/test.sh upgrade). $DIR/bin-next/ links
# every TABLE binary and then these over them: a whole set for Kubernetes v1.34.4 (GROUNDWORK_K8S_BIN_NEXT).
NEXT_TABLE=(
  "kubernetes-v1.34.4|kubernetes|k8s.io/kubernetes|v1.34.4|kubeadm kubectl kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy"
  "etcd-v3.6.4|etcd|go.etcd.io/etcd/server/v3|v3.6.4|etcd etcdctl"
  "cni-plugins-v1.7.1|gomain|github.com/containernetworking/plugins|v1.7.1|bridge=plugins/main/bridge host-local=plugins/ipam/host-local loopback=plugins/main/loopback portmap=plugins/meta/portmap|-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={version}"
  # pause 3.10.1, 1.34's sandbox image: the same Linux source as 3.10.
  "pause-3.10.1|pause|k8s.io/kubernetes|v1.34.4|pause=build/pause/linux/pause.c|-DVERSION=v3.10.1-groundwork"
)

START=$SECONDS
say() { printf '[kubernetes %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'tools/kubernetes/build.sh: %s\n' "$*" >&2; exit 1; }

# names <binaries>: the binary names of a row's binaries field (`name=path` -> name).
names() { local spec; for spec in $1; do printf '%s\n' "${spec%%=*}"; done; }

declare -A ROW OWNER NEXT_OWNER
NAMES=()
NEXT_NAMES=()
for row in "${TABLE[@]}"; do
  IFS='|' read -r name builder _ _ binaries _ <<<"$row"
  ROW[$name]="$row"
  NAMES+=("$name")
  for bin in $(names "$binaries"); do
    [[ -z "${OWNER[$bin]:-}" ]] || { printf 'tools/kubernetes/build.sh: binary %s is in two rows (%s, %s)\n' "$bin" "${OWNER[$bin]}" "$name" >&2; exit 1; }
    OWNER[$bin]="$name"
  done
done
for row in "${NEXT_TABLE[@]}"; do
  IFS='|' read -r name builder _ _ binaries _ <<<"$row"
  [[ -z "${ROW[$name]:-}" ]] || { printf 'tools/kubernetes/build.sh: row %s is in TABLE and NEXT_TABLE\n' "$name" >&2; exit 1; }
  ROW[$name]="$row"
  NEXT_NAMES+=("$name")
  for bin in $(names "$binaries"); do
    [[ -n "${OWNER[$bin]:-}" ]] || { printf 'tools/kubernetes/build.sh: NEXT_TABLE row %s builds %s, which no TABLE row replaces\n' "$name" "$bin" >&2; exit 1; }
    [[ -z "${NEXT_OWNER[$bin]:-}" ]] || { printf 'tools/kubernetes/build.sh: binary %s is in two NEXT_TABLE rows (%s, %s)\n' "$bin" "${NEXT_OWNER[$bin]}" "$name" >&2; exit 1; }
    NEXT_OWNER[$bin]="$name"
  done
done

KEEP_GOING=0
CHECK=0
NEXT=0
WANT=()
for arg in "$@"; do
  case "$arg" in
    --keep-going) KEEP_GOING=1 ;;
    --check) CHECK=1 ;;
    --next) NEXT=1 ;;
    -h | --help) printf 'usage: build.sh [--keep-going] [--check] [--next] [component...]\n  components: %s\n  --next also builds the upgrade target: %s\n' "${NAMES[*]}" "${NEXT_NAMES[*]}"; exit 0 ;;
    -*) die "unknown option '$arg'" ;;
    *) [[ -n "${ROW[$arg]:-}" ]] || die "unknown component '$arg'; components: ${NAMES[*]}; the upgrade target's: ${NEXT_NAMES[*]}"; WANT+=("$arg") ;;
  esac
done
if [[ ${#WANT[@]} -eq 0 ]]; then
  WANT=("${NAMES[@]}")
  [[ $NEXT -eq 0 ]] || WANT+=("${NEXT_NAMES[@]}")
fi
# next <component>: true for a NEXT_TABLE row.
next() { [[ " ${NEXT_NAMES[*]} " == *" $1 "* ]]; }

command -v go >/dev/null || die "Go 1.24 or later is needed on PATH (Debian 12's golang is 1.19, too old)"
GO_VERSION="$(go env GOVERSION)"
[[ "$(printf '%s\n' go1.24 "$GO_VERSION" | sort -V | head -n1)" == go1.24 ]] ||
  die "Go 1.24 or later is needed, found $GO_VERSION"

mkdir -p "$DIR/build" "$DIR/bin" "$DIR/logs" "$DIR/work"
[[ $NEXT -eq 0 ]] || mkdir -p "$DIR/bin-next"
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

# info_field <info-json> <field[.field]>: one field of the proxy's .info for a version ("" when absent).
info_field() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d.get(k) if isinstance(d, dict) else None
print(d or "")' "$1" "$2"
}

# fill_stamps <stamps> <version> <info-json>: a row's stamps with {version}, {commit}, {commit7}, {date} filled in.
fill_stamps() {
  local s="$1" commit date
  commit="$(info_field "$3" Origin.Hash)" || return 1
  date="$(info_field "$3" Time)" || return 1
  s="${s//\{version\}/$2}"
  s="${s//\{commit7\}/${commit:0:7}}"
  s="${s//\{commit\}/$commit}"
  s="${s//\{date\}/$date}"
  printf '%s' "$s"
}

# go_build <workdir> <out> <package> <ldflags> [tags]: one static (CGO_ENABLED=0), -trimpath, stripped binary.
go_build() {
  (cd "$1" && nice -n 10 go build -p "$GO_JOBS" -trimpath ${5:+-tags "$5"} -ldflags "-s -w $4" -o "$2" "$3")
}

# Each builder is two functions:
#   <builder>_wrapper <workdir> <module> <version>   prepares the workdir, once per component
#   <builder>_build <workdir> <out> <binary> <path> <module> <version> <stamps> <info-json>
#                                                    builds one binary (<stamps> filled in)

# kubernetes_wrapper: a module requiring k8s.io/kubernetes, its requires copied with every staging
# module at v0.<minor>.<patch> and its ./staging replaces pointed at those.
kubernetes_wrapper() {
  local work="$1" module="$2" version="$3" gomod
  gomod="$(download "$module" "$version" GoMod)" || return 1
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

# kubernetes_build: the version stamps the tools print and kubeadm checks; upstream's build tags.
kubernetes_build() {
  local version="$6" date minor pkg flags=""
  date="$(info_field "$8" Time)" || return 1
  minor="${version#v1.}"; minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  go_build "$1" "$2" "k8s.io/kubernetes/cmd/$3" "$flags" selinux,notest
}

etcd_wrapper() {
  local work="$1" module="$2" version="$3"
  download "$module" "$version" Dir >/dev/null || return 1
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

etcd_build() {
  local pkg=./etcd
  [[ "$3" == etcd ]] || pkg=go.etcd.io/etcd/etcdctl/v3
  go_build "$1" "$2" "$pkg" "" selinux,notest
}

# gomain_wrapper [module@version...]: a module requiring <module>@<version> and nothing else (but
# the extra requirements given, for a builder that needs them), so the build list is what the
# module's own go.mod selects. (`go install <package>@<version>` would be shorter, but it looks the
# module's deprecation up in the proxy's version list, which the proxy refuses for kube-vip.)
gomain_wrapper() {
  local work="$1" module="$2" version="$3"
  download "$module" "$version" Dir >/dev/null || return 1
  (cd "$work" && go mod init "groundwork.local/${module##*/}-build" && go get "$module@$version" "${@:4}")
}

gomain_build() {
  local path="$4" module="$5" pkg
  pkg="$module"
  [[ -z "$path" || "$path" == . ]] || pkg+="/$path"
  go_build "$1" "$2" "$pkg" "$7"
}

# coredns_wrapper: gomain's wrapper, and a main of our own importing upstream's plugin list
# (core/plugin/zplugin.go) without the plugins built on large outside SDKs: azure, clouddns and
# route53 (the clouds' DNS APIs), dnstap, etcd, geoip, grpc and trace. Their SDKs were most of
# CoreDNS's cold build (353 s of the cold CI run); kubeadm's Corefile (errors, health, ready,
# kubernetes, prometheus, forward, cache, loop, reload, loadbalance) and the common edits (hosts,
# rewrite, template, log, …) keep every plugin they name. A Corefile naming a left-out plugin fails
# to start with CoreDNS's own "unknown directive". These images are the test's, built here.
coredns_wrapper() {
  # In the function (its text is part of the build's key): a change here rebuilds CoreDNS.
  local work="$1" module="$2" version="$3" dir left_out="azure|clouddns|route53|dnstap|etcd|geoip|grpc|trace"
  gomain_wrapper "$work" "$module" "$version" || return 1
  dir="$(download "$module" "$version" Dir)" || return 1
  mkdir -p "$work/coredns"
  {
    printf 'package main\n\nimport (\n'
    grep -E '^'$'\t''_ "' "$dir/core/plugin/zplugin.go" | grep -vE "/plugin/($left_out)\"\$"
    printf '\n\t"github.com/coredns/coredns/coremain"\n)\n\nfunc main() { coremain.Run() }\n'
  } >"$work/coredns/main.go"
  grep -q '/plugin/kubernetes"' "$work/coredns/main.go" || { echo "coredns_wrapper: no kubernetes plugin in $dir/core/plugin/zplugin.go" >&2; return 1; }
}

coredns_build() {
  go_build "$1" "$2" ./coredns "$7"
}

# flannel_wrapper: gomain's wrapper, and two changes upstream's own build does not need:
# - github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common raised to v1.3.81: flannel
#   v0.28.4 requires v1.3.79, whose zip the proxy refuses (403); v1.3.81 is the next version it
#   serves whole (only the tencentvpc backend uses it);
# - flanneld's main.go copied without the UDP backend's import: on amd64 that backend is cgo
#   (upstream builds amd64 with CGO_ENABLED=1 for it alone), it does not compile with CGO_ENABLED=0,
#   and no build tag leaves it out. A network asking for "udp" gets "unknown backend type: udp".
flannel_wrapper() {
  local work="$1" module="$2" version="$3" dir udp='	_ "github.com/flannel-io/flannel/pkg/backend/udp"'
  gomain_wrapper "$work" "$module" "$version" github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common@v1.3.81 || return 1
  dir="$(download "$module" "$version" Dir)" || return 1
  grep -qxF "$udp" "$dir/main.go" || { echo "flannel_wrapper: $module@$version main.go has no line '$udp'" >&2; return 1; }
  mkdir -p "$work/flanneld"
  grep -vxF "$udp" "$dir/main.go" >"$work/flanneld/main.go"
}

flannel_build() {
  go_build "$1" "$2" ./flanneld "$7"
}

# pause_wrapper: the kubernetes module's source; pause_build compiles the row's C file as
# build/pause/Makefile does: gcc -Os -Wall -Werror -static -DVERSION=v<TAG>-<REV>, then strip
# (REV is upstream's `git describe`; the row's stamps say groundwork).
pause_wrapper() {
  local dir
  dir="$(download "$2" "$3" Dir)" || return 1
  ln -s "$dir" "$1/src"
}

pause_build() {
  local -a stamps
  command -v gcc >/dev/null || { echo "pause_build: gcc is missing: bash tools/deps.sh build installs gcc and libc6-dev" >&2; return 1; }
  read -ra stamps <<<"$7"
  nice -n 10 gcc -Os -Wall -Werror -static "${stamps[@]}" -o "$2" "$1/src/$4" && strip "$2"
}

build_component() { # <name> <outdir> -> prints "binary seconds" per binary on fd 3
  local name="$1" out="$2" builder module version binaries stamps work info spec bin path t0
  IFS='|' read -r _ builder module version binaries stamps <<<"${ROW[$name]}"
  work="$DIR/work/$name"
  rm -rf "$work"
  mkdir -p "$work" || return 1
  say "$name: fetching $module@$version"
  # Called as an `if` condition, so `set -e` does not apply here: every step returns on failure.
  "${builder}_wrapper" "$work" "$module" "$version" || return 1
  info="$(download "$module" "$version" Info)" || return 1
  stamps="$(fill_stamps "$stamps" "$version" "$info")" || return 1
  for spec in $binaries; do
    bin="${spec%%=*}"
    path=""
    [[ "$spec" != *=* ]] || path="${spec#*=}"
    t0=$SECONDS
    "${builder}_build" "$work" "$out/$bin" "$bin" "$path" "$module" "$version" "$stamps" "$info" || return 1
    printf '%s %s\n' "$bin" "$((SECONDS - t0))" >&3
    say "$name: $bin built in $((SECONDS - t0))s ($(du -m "$out/$bin" | cut -f1) MiB)"
  done
}

# compiler <builder>: what compiles a builder's binaries (part of their key).
compiler() {
  case "$1" in
    pause) printf 'gcc %s, %s\n' "$(gcc -dumpfullversion 2>/dev/null || echo missing)" "$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)" ;;
    *) printf '%s\n' "$GO_VERSION" ;;
  esac
}

# key_functions <builder>: build_component, <builder>_wrapper, <builder>_build and every function
# whose name appears (as a word) in the text of those, repeated until none is added. Matched in bash,
# not with `declare -f | grep -q`: under pipefail a grep that stops early can fail the pipeline
# (SIGPIPE), and a key that depends on timing changes between runs.
key_functions() {
  local -a names=(build_component "${1}_wrapper" "${1}_build") all
  local f text n=0
  mapfile -t all < <(compgen -A function)
  while [[ $n -ne ${#names[@]} ]]; do
    n=${#names[@]}
    text="$(declare -f "${names[@]}")"
    for f in "${all[@]}"; do
      [[ " ${names[*]} " != *" $f "* ]] || continue
      if [[ "$text" =~ (^|[^[:alnum:]_])"$f"([^[:alnum:]_]|$) ]]; then names+=("$f"); fi
    done
  done
  printf '%s\n' "${names[@]}"
}

# key_of <component>: a hash of its row, its compiler and the text of the functions that build it.
key_of() {
  local builder
  local -a funcs
  IFS='|' read -r _ builder _ <<<"${ROW[$1]}"
  mapfile -t funcs < <(key_functions "$builder")
  { printf '%s\n' "${ROW[$1]}"; compiler "$builder"; declare -f "${funcs[@]}"; } | sha256sum | cut -d' ' -f1
}

for name in "${NAMES[@]}" "${NEXT_NAMES[@]}"; do
  IFS='|' read -r _ builder _ <<<"${ROW[$name]}"
  declare -F "${builder}_wrapper" "${builder}_build" >/dev/null || die "row $name: no builder '$builder' (${builder}_wrapper and ${builder}_build)"
done

FAILED=0
for name in "${WANT[@]}"; do
  IFS='|' read -r _ builder module version binaries _ <<<"${ROW[$name]}"
  out="$DIR/build/$name"
  key="$(key_of "$name")"
  log="$DIR/logs/$name.log"
  if [[ "$(cat "$out/.key" 2>/dev/null)" == "$key" ]]; then
    say "$name: cached ($out)"
  elif [[ $CHECK -eq 1 ]]; then
    printf 'tools/kubernetes/build.sh: %s is not built under its current key; run tools/kubernetes/build.sh\n' "$name" >&2
    FAILED=1
    continue
  else
    say "$name: building $(names "$binaries" | paste -sd' ') (log: $log)"
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
  for bin in $(names "$binaries"); do
    if next "$name"; then
      ln -sfn "../build/$name/$bin" "$DIR/bin-next/$bin"
      printf '  %-26s %4s MiB (bin-next)\n' "$bin" "$(du -mL "$DIR/bin-next/$bin" | cut -f1)"
      continue
    fi
    ln -sfn "../build/$name/$bin" "$DIR/bin/$bin"
    # bin-next keeps the upgrade target's own build of a binary; it shares every other one.
    [[ $NEXT -eq 0 || -n "${NEXT_OWNER[$bin]:-}" ]] || ln -sfn "../build/$name/$bin" "$DIR/bin-next/$bin"
    printf '  %-26s %4s MiB\n' "$bin" "$(du -mL "$DIR/bin/$bin" | cut -f1)"
  done
done
say "done: binaries in $DIR/bin$([[ $NEXT -eq 0 ]] || printf ' and the upgrade target in %s' "$DIR/bin-next")"
exit "$FAILED"
