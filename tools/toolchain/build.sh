#!/usr/bin/env bash
# Builds the Pulumi engine toolchain from Go modules into the groundwork cache:
#   build.sh [--keep-going] [component...]
# Components (default: every one that builds from what the Go module proxy serves):
#   cli         the `pulumi` CLI, github.com/pulumi/pulumi/pkg/v3 at the engine version
#   nodejs      our Node.js language host (tools/toolchain/nodejs; the upstream module is not served):
#               runs programs and policy packs (`--policy-pack`)
#   kubernetes  the kubernetes resource plugin at the one commit the proxy serves
#   command     groundwork's own command plugin (tools/toolchain/command/build.sh, which caches,
#               checks the schema against @pulumi/command and registers it)
# Named but not buildable here (the proxy refuses their modules): openstack random tls vsphere.
# Each finished build is kept under $GROUNDWORK_CACHE/pulumi/bin/<component>-<version>/ and skipped on
# the next run while its key (version, wrapper sources, Go version) is unchanged. The Node.js host
# is also kept per key (nodejs-<version>-<key>/) and linked from <repo>/.state/toolchain/. Providers are
# registered with the built CLI (`pulumi plugin install resource … --file …`).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"
DIR="$GROUNDWORK_PULUMI_DIR"
GO_JOBS=2 # two cores are shared with other work

# The kubernetes provider: the proxy serves github.com/pulumi/pulumi-kubernetes/provider/v4 at this
# pseudo-version only (not at 4.34.2, the @pulumi/kubernetes version); its `sdk/v4 => ../sdk`
# replace is pointed at a served sdk release (v4.29.0 needs a newer engine library than the provider).
K8S_MODULE="github.com/pulumi/pulumi-kubernetes/provider/v4"
K8S_PSEUDO="v4.0.0-20260115033456-f47bc2d6f199"
K8S_VERSION="${K8S_PSEUDO#v}"
K8S_SDK="v4.22.2"

# component -> version it builds (what `pulumi plugin ls` shows)
declare -A VERSION=(
  [cli]="$GROUNDWORK_PULUMI_VERSION"
  [nodejs]="$GROUNDWORK_PULUMI_VERSION"
  [kubernetes]="$K8S_VERSION"
  [command]="1.2.1"
)
BUILDABLE=(cli nodejs kubernetes command)
# Components with a build script of their own (its own cache key, schema check and registration).
declare -A OWN_SCRIPT=(
  [command]="$HERE/command/build.sh"
)
# component -> why it cannot be built from the proxy (checked on 2026-11-25)
declare -A UNAVAILABLE=(
  [openstack]="3.15.2: the Go module proxy refuses github.com/pulumi/pulumi-openstack/provider/v3 (every version, HTTP 403); see tools/toolchain/openstack-bridge/"
  [random]="4.21.2: the Go module proxy refuses github.com/pulumi/pulumi-random/provider/v4 (HTTP 403, also the pseudo-version of the sdk/v4.21.2 commit); see tools/toolchain/tls-random-bridge/"
  [tls]="5.6.1: the Go module proxy refuses github.com/pulumi/pulumi-tls/provider/v5 (HTTP 403); see tools/toolchain/tls-random-bridge/"
  [vsphere]="4.x: the Go module proxy refuses github.com/pulumi/pulumi-vsphere/provider/v4 (HTTP 403)"
)

START=$SECONDS
say() { printf '[toolchain %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
usage: build.sh [--keep-going] [component...]
  buildable:   ${BUILDABLE[*]}
  unavailable: ${!UNAVAILABLE[*]}
  --keep-going  build the other components when one fails (exit status is still 1)
EOF
}

KEEP_GOING=0
WANT=()
for arg in "$@"; do
  case "$arg" in
    --keep-going) KEEP_GOING=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option '$arg'" ;;
    *)
      if [[ -z "${VERSION[$arg]:-}" && -z "${UNAVAILABLE[$arg]:-}" ]]; then
        usage >&2
        die "unknown component '$arg'"
      fi
      WANT+=("$arg")
      ;;
  esac
done
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${BUILDABLE[@]}")
# The CLI registers the providers, so it is built first whenever a provider is asked for.
if [[ " ${WANT[*]} " != *" cli "* && (" ${WANT[*]} " == *" kubernetes "* || " ${WANT[*]} " == *" command "*) ]]; then
  WANT=(cli "${WANT[@]}")
fi

command -v go >/dev/null || die "Go 1.25 or later is needed on PATH (Debian 12's golang is 1.19, too old)"
GO_VERSION="$(go env GOVERSION)"
[[ "$(printf '%s\n' go1.25 "$GO_VERSION" | sort -V | head -n1)" == go1.25 ]] ||
  die "Go 1.25 or later is needed, found $GO_VERSION"
command -v python3 >/dev/null || {
  say "installing python3 (schema minification for providers)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 >/dev/null
}

mkdir -p "$DIR/bin" "$DIR/logs" "$DIR/work" "$PULUMI_HOME"
export GOMODCACHE="$DIR/gomod" GOCACHE="$DIR/gocache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -mod=readonly"

# cache_key <component> <files...>: what a finished build depends on.
cache_key() {
  local comp="$1"
  shift
  { printf '%s %s %s\n' "$comp" "${VERSION[$comp]}" "$GO_VERSION"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

build_cli() { # <outdir>
  (cd "$HERE/cli" && go build -p "$GO_JOBS" -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${VERSION[cli]}" \
    -o "$1/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_nodejs() { # <outdir>
  (cd "$HERE/nodejs" && go build -p "$GO_JOBS" -trimpath \
    -ldflags "-s -w -X main.version=${VERSION[nodejs]}" -o "$1/pulumi-language-nodejs" .)
}

build_kubernetes() { # <outdir>
  local out="$1" src work="$DIR/work/kubernetes"
  src="$(cd "$DIR/work" && go mod download -json "$K8S_MODULE@$K8S_PSEUDO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  rm -rf "$work"
  cp -r "$src" "$work"
  chmod -R u+w "$work"
  # Keep the provider's own engine libraries (pkg/v3 3.215: 3.248's codegen API no longer fits);
  # point its local `sdk/v4 => ../sdk` replace at a served sdk release.
  (cd "$work" && go mod edit \
    -replace="github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_SDK" \
    -replace="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e")
  # The provider's `go generate` step: stamp the version into the schema and minify both files.
  (cd "$work/cmd/pulumi-resource-kubernetes" && python3 - "$K8S_VERSION" <<'PY'
import json, sys
schema = json.load(open("schema.json"))
schema["version"] = sys.argv[1]
json.dump(schema, open("schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open("terraform-mapping.json")), open("terraform-mapping-embed.json", "w"),
          separators=(",", ":"))
PY
  )
  (cd "$work" && GOFLAGS="-modcacherw -mod=mod" go build -p "$GO_JOBS" -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_VERSION" \
    -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
}

build_one() { # <component> <outdir>
  case "$1" in
    cli) build_cli "$2" ;;
    nodejs) build_nodejs "$2" ;;
    kubernetes) build_kubernetes "$2" ;;
  esac
}

# register <name> <version> <binary>: make the CLI find the provider without any download.
register() {
  local name="$1" version="$2" binary="$3"
  [[ -d "$PULUMI_HOME/plugins/resource-$name-v$version" ]] && return 0
  pulumi plugin install resource "$name" "$version" --file "$binary" >"$DIR/logs/register-$name.log" 2>&1 ||
    { cat "$DIR/logs/register-$name.log" >&2; return 1; }
}

declare -A STATUS SECS SIZE
FAILED=0
for comp in "${WANT[@]}"; do
  if [[ -n "${UNAVAILABLE[$comp]:-}" ]]; then
    STATUS[$comp]="unavailable"
    SECS[$comp]=0
    SIZE[$comp]="-"
    printf 'build.sh: %s cannot be built here: %s\n' "$comp" "${UNAVAILABLE[$comp]}" >&2
    FAILED=1
    [[ $KEEP_GOING -eq 1 ]] || break
    continue
  fi
  ver="${VERSION[$comp]}"
  out="$DIR/bin/$comp-$ver"
  if [[ -n "${OWN_SCRIPT[$comp]:-}" ]]; then
    t0=$SECONDS
    if bash "${OWN_SCRIPT[$comp]}" 2>&1 | tee "$DIR/logs/$comp-script.log"; then
      STATUS[$comp]="built"
      grep -q '] cached: ' "$DIR/logs/$comp-script.log" && STATUS[$comp]="cached"
      SIZE[$comp]="$(du -m "$out/pulumi-resource-$comp" | cut -f1) MiB"
    else
      STATUS[$comp]="FAILED"
      SIZE[$comp]="-"
      FAILED=1
    fi
    SECS[$comp]=$((SECONDS - t0))
    [[ ${STATUS[$comp]} != FAILED || $KEEP_GOING -eq 1 ]] || break
    continue
  fi
  case "$comp" in
    cli) key="$(cache_key cli "$HERE/cli/go.mod" "$HERE/cli/go.sum")"; binary="$out/pulumi" ;;
    nodejs) key="$(cache_key nodejs "$HERE/nodejs/go.mod" "$HERE/nodejs/go.sum" "$HERE"/nodejs/*.go)"
      binary="$out/pulumi-language-nodejs" ;;
    kubernetes) key="$(cache_key kubernetes <(printf '%s %s\n' "$K8S_PSEUDO" "$K8S_SDK"))"; binary="$out/pulumi-resource-kubernetes" ;;
  esac
  t0=$SECONDS
  if [[ -x "$binary" && "$(cat "$out/.key" 2>/dev/null)" == "$key" ]]; then
    STATUS[$comp]="cached"
    say "$comp $ver: cached ($binary)"
  else
    say "$comp $ver: building (log: $DIR/logs/$comp.log)"
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    if build_one "$comp" "$out.tmp" >"$DIR/logs/$comp.log" 2>&1; then
      rm -rf "$out"
      mv "$out.tmp" "$out"
      printf '%s\n' "$key" >"$out/.key"
      STATUS[$comp]="built"
    else
      rm -rf "$out.tmp"
      STATUS[$comp]="FAILED"
      SECS[$comp]=$((SECONDS - t0))
      SIZE[$comp]="-"
      printf 'build.sh: building %s %s failed after %ss; last lines of %s:\n' \
        "$comp" "$ver" "${SECS[$comp]}" "$DIR/logs/$comp.log" >&2
      tail -n 15 "$DIR/logs/$comp.log" >&2
      FAILED=1
      [[ $KEEP_GOING -eq 1 ]] || break
      continue
    fi
  fi
  if [[ "$comp" == nodejs ]]; then
    # nodejs-<version>/ is shared by every checkout on this machine and holds whichever sources
    # built last; a copy per source key never changes, and .state/toolchain/ of this checkout
    # points at the one built from its own sources (tests name it as the project's language plugin).
    keyed="$DIR/bin/nodejs-$ver-${key:0:12}"
    if [[ ! -x "$keyed/pulumi-language-nodejs" ]]; then
      rm -rf "$keyed.tmp"
      mkdir -p "$keyed.tmp"
      cp "$binary" "$keyed.tmp/"
      mv -T "$keyed.tmp" "$keyed"
    fi
    mkdir -p "$HERE/../../.state/toolchain"
    ln -sfn "$keyed/pulumi-language-nodejs" "$HERE/../../.state/toolchain/pulumi-language-nodejs"
  fi
  if [[ "$comp" == kubernetes ]]; then
    command -v pulumi >/dev/null || die "registering $comp needs the CLI: run build.sh cli first"
    register kubernetes "$ver" "$binary"
  fi
  SECS[$comp]=$((SECONDS - t0))
  SIZE[$comp]="$(du -m "$binary" | cut -f1) MiB"
  say "$comp $ver: ${STATUS[$comp]} in ${SECS[$comp]}s, $(basename "$binary") ${SIZE[$comp]}"
done

# The CLI looks for its language hosts next to its own binary first and warns about any other copy.
cli_dir="$DIR/bin/cli-${VERSION[cli]}"
host="$DIR/bin/nodejs-${VERSION[nodejs]}/pulumi-language-nodejs"
if [[ -x "$cli_dir/pulumi" && -x "$host" ]]; then
  ln -sfn "$host" "$cli_dir/pulumi-language-nodejs"
fi

printf '\n%-11s %-36s %-11s %6s %9s\n' component version status seconds size
for comp in "${WANT[@]}"; do
  [[ -n "${STATUS[$comp]:-}" ]] || continue
  printf '%-11s %-36s %-11s %6s %9s\n' "$comp" "${VERSION[$comp]:-${UNAVAILABLE[$comp]%%:*}}" \
    "${STATUS[$comp]}" "${SECS[$comp]}" "${SIZE[$comp]}"
done
say "total $((SECONDS - START))s; cache $DIR"
exit "$FAILED"
