#!/usr/bin/env bash
# Builds groundwork's own tls and random resource plugins (this folder: terraform-provider-tls and
# terraform-provider-random bridged to the tokens of the @pulumi/tls 5.6.1 and @pulumi/random 4.21.2
# npm SDKs) into the toolchain cache:
#   build.sh [--force]
#     --force  rebuild even when the cached plugins match the sources
# Installs $GROUNDWORK_PULUMI_DIR/bin/{tls-5.6.1/pulumi-resource-tls,random-4.21.2/pulumi-resource-random}
# (one binary under two names) and, when the `pulumi` CLI from ../build.sh is there, registers both.
# The Go module proxy refuses pulumi-tls's and pulumi-random's provider modules and every tagged
# version of the Terraform providers; it serves the pseudo-versions in shim/*/go.mod.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
declare -A VERSION=([tls]="5.6.1" [random]="4.21.2") # what each npm SDK asks the engine for
PKGS=(tls random)
GO_JOBS=2 # two cores are shared with other work
DIR="$GROUNDWORK_PULUMI_DIR"
WORK="$DIR/work/tls-random-bridge"
LOG="$DIR/logs/tls-random-bridge.log"
OUT="$DIR/bin/tls-random-bridge.tmp"

START=$SECONDS
say() { printf '[tls-random-bridge %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
# fail <what> <t0>: the log's tail, and the modules the proxy refused when that was the cause.
fail() {
  tail -n 15 "$LOG" >&2
  local refused
  refused="$(grep -Eo '[^ ]+@v[^ :]+: (reading|verifying) [^ ]+: (403|404|410)[^"]*' "$LOG" | sort -u || true)"
  [[ -z "$refused" ]] || printf 'build.sh: the Go module proxy refused:\n%s\n' "$refused" >&2
  die "$1 failed after $((SECONDS - $2))s (log: $LOG)"
}

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

command -v go >/dev/null || die "Go 1.25 or later is needed on PATH (Debian 12's golang is 1.19, too old)"
GO_VERSION="$(go env GOVERSION)"
[[ "$(printf '%s\n' go1.25 "$GO_VERSION" | sort -V | head -n1)" == go1.25 ]] ||
  die "Go 1.25 or later is needed, found $GO_VERSION"

mkdir -p "$DIR/bin" "$DIR/logs" "$DIR/work" "$PULUMI_HOME"
export GOMODCACHE="$DIR/gomod" GOCACHE="$DIR/gocache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -mod=readonly"

# What a finished build depends on: sources, versions, Go.
KEY="$(cd "$HERE" && { printf '%s %s %s\n' "${VERSION[tls]}" "${VERSION[random]}" "$GO_VERSION"
  cat go.mod go.sum ./*.go provider/*.go schemagen/*.go shim/*/go.mod shim/*/*.go; } | sha256sum | cut -d' ' -f1)"
bin() { printf '%s/bin/%s-%s/pulumi-resource-%s' "$DIR" "$1" "${VERSION[$1]}" "$1"; }

cached=1
for pkg in "${PKGS[@]}"; do
  [[ -x "$(bin "$pkg")" && "$(cat "$(dirname "$(bin "$pkg")")/.key" 2>/dev/null)" == "$KEY" ]] || cached=0
done
if [[ $FORCE -eq 0 && $cached -eq 1 ]]; then
  say "cached: $(bin tls), $(bin random)"
else
  say "building in $WORK (Go $GO_VERSION, -p $GO_JOBS; the first build takes 10+ minutes; log: $LOG)"
  rm -rf "$WORK" "$OUT"
  mkdir -p "$WORK" "$OUT"
  cp -r "$HERE/go.mod" "$HERE/go.sum" "$HERE"/*.go "$HERE"/schema-*.json "$HERE/provider" "$HERE/schemagen" "$HERE/shim" "$WORK/"
  : >"$LOG"
  t0=$SECONDS
  say "compiling schemagen (tfgen)"
  (cd "$WORK" && go build -p "$GO_JOBS" -trimpath -o "$OUT/schemagen" ./schemagen) >>"$LOG" 2>&1 ||
    fail "compiling schemagen" "$t0"
  say "schemagen compiled in $((SECONDS - t0))s; generating the Pulumi schemas"
  for pkg in "${PKGS[@]}"; do
    t0=$SECONDS
    "$OUT/schemagen" "$pkg" "$WORK/schema-$pkg.json" >>"$LOG" 2>&1 || fail "generating the $pkg schema" "$t0"
    say "$pkg schema generated in $((SECONDS - t0))s: $(du -k "$WORK/schema-$pkg.json" | cut -f1) KiB"
  done
  t0=$SECONDS
  say "compiling the plugin binary (pulumi-resource-tls and pulumi-resource-random)"
  (cd "$WORK" && go build -p "$GO_JOBS" -trimpath -ldflags "-s -w" -o "$OUT/plugin" .) >>"$LOG" 2>&1 ||
    fail "compiling the plugin" "$t0"
  for pkg in "${PKGS[@]}"; do
    cp "$OUT/plugin" "$OUT/pulumi-resource-$pkg"
    got="$("$OUT/pulumi-resource-$pkg" -version)"
    [[ "$got" == "${VERSION[$pkg]}" ]] || die "pulumi-resource-$pkg reports version '$got', expected ${VERSION[$pkg]}"
    dest="$(dirname "$(bin "$pkg")")"
    rm -rf "$dest"
    mkdir -p "$dest"
    mv "$OUT/pulumi-resource-$pkg" "$dest/"
    printf '%s\n' "$KEY" >"$dest/.key"
  done
  rm -rf "$OUT"
  say "compiled in $((SECONDS - t0))s"
fi
for pkg in "${PKGS[@]}"; do
  say "plugin $pkg ${VERSION[$pkg]}: $(bin "$pkg"), $(du -m "$(bin "$pkg")" | cut -f1) MiB"
done

# Register with the engine so no download is ever attempted (env.sh forbids them anyway).
if command -v pulumi >/dev/null; then
  for pkg in "${PKGS[@]}"; do
    registered="$PULUMI_HOME/plugins/resource-$pkg-v${VERSION[$pkg]}/pulumi-resource-$pkg"
    if cmp -s "$(bin "$pkg")" "$registered"; then
      say "$pkg already registered with $(command -v pulumi)"
    else
      msg="$(pulumi plugin install resource "$pkg" "${VERSION[$pkg]}" --file "$(bin "$pkg")" --reinstall 2>&1)" ||
        die "registering the $pkg plugin failed: $msg"
      say "registered: pulumi plugin install resource $pkg ${VERSION[$pkg]} --file $(bin "$pkg")"
    fi
  done
else
  say "no pulumi CLI yet (tools/toolchain/build.sh cli): plugins not registered"
fi
say "done in $((SECONDS - START))s"
