#!/usr/bin/env bash
# Builds groundwork's own OpenStack resource plugin (this folder: terraform-provider-openstack
# bridged to the tokens of the @pulumi/openstack 3.15.2 npm SDK) into the toolchain cache:
#   build.sh [--force] [--no-schema]
#     --force      rebuild even when the cached plugin matches the sources
#     --no-schema  skip the tfgen step: the plugin then serves no Pulumi schema
# Installs $GROUNDWORK_PULUMI_DIR/bin/openstack-3.15.2/pulumi-resource-openstack and, when the
# `pulumi` CLI from ../build.sh is there, registers it (`pulumi plugin install ... --file`).
# The Go module proxy refuses pulumi-openstack's own provider module; this one needs only the
# Terraform provider, the bridge and Pulumi's fork of the Terraform plugin SDK, all served.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
VERSION="3.15.2" # the version @pulumi/openstack asks the engine for
GO_JOBS=2        # two cores are shared with other work
DIR="$GROUNDWORK_PULUMI_DIR"
OUT="$DIR/bin/openstack-$VERSION"
BIN="$OUT/pulumi-resource-openstack"
WORK="$DIR/work/openstack-bridge"
LOG="$DIR/logs/openstack-bridge.log"

START=$SECONDS
say() { printf '[openstack-bridge %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

FORCE=0
SCHEMA=1
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --no-schema) SCHEMA=0 ;;
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

# What a finished build depends on: sources, version, Go, whether it embeds a schema.
KEY="$(cd "$HERE" && { printf '%s %s schema=%s\n' "$VERSION" "$GO_VERSION" "$SCHEMA"
  cat go.mod go.sum ./*.go provider/*.go schemagen/*.go; } | sha256sum | cut -d' ' -f1)"

if [[ $FORCE -eq 0 && -x "$BIN" && "$(cat "$OUT/.key" 2>/dev/null)" == "$KEY" ]]; then
  say "cached: $BIN"
else
  say "building in $WORK (Go $GO_VERSION, -p $GO_JOBS; the first build takes 10+ minutes; log: $LOG)"
  rm -rf "$WORK" "$OUT.tmp"
  mkdir -p "$WORK" "$OUT.tmp"
  cp -r "$HERE/go.mod" "$HERE/go.sum" "$HERE"/*.go "$HERE/provider" "$HERE/schemagen" "$WORK/"
  : >"$WORK/schema-embed.json"
  : >"$LOG"
  if [[ $SCHEMA -eq 1 ]]; then
    t0=$SECONDS
    say "compiling schemagen (tfgen)"
    (cd "$WORK" && go build -p "$GO_JOBS" -trimpath -o "$OUT.tmp/schemagen" ./schemagen) >>"$LOG" 2>&1 ||
      { tail -n 15 "$LOG" >&2; die "compiling schemagen failed after $((SECONDS - t0))s (log: $LOG)"; }
    say "schemagen compiled in $((SECONDS - t0))s; generating the Pulumi schema"
    t0=$SECONDS
    "$OUT.tmp/schemagen" "$VERSION" "$WORK/schema-embed.json" >>"$LOG" 2>&1 ||
      { tail -n 15 "$LOG" >&2; die "generating the schema failed (log: $LOG)"; }
    rm -f "$OUT.tmp/schemagen"
    say "schema generated in $((SECONDS - t0))s: $(du -k "$WORK/schema-embed.json" | cut -f1) KiB"
  fi
  t0=$SECONDS
  say "compiling pulumi-resource-openstack"
  (cd "$WORK" && go build -p "$GO_JOBS" -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" -o "$OUT.tmp/pulumi-resource-openstack" .) >>"$LOG" 2>&1 ||
    { tail -n 15 "$LOG" >&2; die "compiling the plugin failed after $((SECONDS - t0))s (log: $LOG)"; }
  got="$("$OUT.tmp/pulumi-resource-openstack" -version)"
  [[ "$got" == "$VERSION" ]] || die "the built plugin reports version '$got', expected $VERSION"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  printf '%s\n' "$KEY" >"$OUT/.key"
  say "compiled in $((SECONDS - t0))s"
fi
say "plugin $VERSION: $BIN, $(du -m "$BIN" | cut -f1) MiB"

# Register with the engine so no download is ever attempted (env.sh forbids them anyway).
if command -v pulumi >/dev/null; then
  registered="$PULUMI_HOME/plugins/resource-openstack-v$VERSION/pulumi-resource-openstack"
  if cmp -s "$BIN" "$registered"; then
    say "already registered with $(command -v pulumi)"
  else
    msg="$(pulumi plugin install resource openstack "$VERSION" --file "$BIN" --reinstall 2>&1)" ||
      die "registering the plugin failed: $msg"
    say "registered: pulumi plugin install resource openstack $VERSION --file $BIN"
  fi
else
  say "no pulumi CLI yet (tools/toolchain/build.sh cli): plugin not registered"
fi
say "done in $((SECONDS - START))s"
