#!/usr/bin/env bash
# Builds groundwork's own command resource plugin (this folder: command:remote:Command over SSH and
# command:local:Command, under the tokens of the @pulumi/command 1.2.1 npm SDK) into the toolchain cache:
#   build.sh [--force]
#     --force   rebuild even when the cached plugin matches the sources
# Installs $GROUNDWORK_PULUMI_DIR/bin/command-1.2.1/pulumi-resource-command, checks its schema against
# the SDK (check-schema.sh) and, when the `pulumi` CLI from ../build.sh is there, registers it
# (`pulumi plugin install resource command 1.2.1 --file ...`). Also run by `../build.sh command`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../env.sh disable=SC1091
source "$HERE/../env.sh"
VERSION="1.2.1" # the version @pulumi/command asks the engine for
GO_JOBS=2       # two cores are shared with other work
DIR="$GROUNDWORK_PULUMI_DIR"
OUT="$DIR/bin/command-$VERSION"
BIN="$OUT/pulumi-resource-command"
LOG="$DIR/logs/command.log"

START=$SECONDS
say() { printf '[command-plugin %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'command/build.sh: %s\n' "$*" >&2; exit 1; }

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

command -v go >/dev/null || die "Go 1.25 or later is needed on PATH (Debian 12's golang is 1.19, too old)"
GO_VERSION="$(go env GOVERSION)"
[[ "$(printf '%s\n' go1.25 "$GO_VERSION" | sort -V | head -n1)" == go1.25 ]] ||
  die "Go 1.25 or later is needed, found $GO_VERSION"

mkdir -p "$DIR/bin" "$DIR/logs" "$PULUMI_HOME"
export GOMODCACHE="$DIR/gomod" GOCACHE="$DIR/gocache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -mod=readonly"

# What a finished build depends on: the sources, the version, Go.
KEY="$(cd "$HERE" && { printf '%s %s\n' "$VERSION" "$GO_VERSION"; cat go.mod go.sum ./*.go schema.json; } |
  sha256sum | cut -d' ' -f1)"

if [[ $FORCE -eq 0 && -x "$BIN" && "$(cat "$OUT/.key" 2>/dev/null)" == "$KEY" ]]; then
  say "cached: $BIN"
else
  say "compiling pulumi-resource-command (Go $GO_VERSION, -p $GO_JOBS; log: $LOG)"
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  (cd "$HERE" && nice -n 10 go build -p "$GO_JOBS" -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" -o "$OUT.tmp/pulumi-resource-command" .) >"$LOG" 2>&1 ||
    { tail -n 15 "$LOG" >&2; die "compiling the plugin failed after $((SECONDS - START))s (log: $LOG)"; }
  got="$("$OUT.tmp/pulumi-resource-command" -version)"
  [[ "$got" == "$VERSION" ]] || die "the built plugin reports version '$got', expected $VERSION"
  bash "$HERE/check-schema.sh" "$OUT.tmp/pulumi-resource-command" ||
    die "the plugin's schema does not match what the @pulumi/command SDK sends"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  printf '%s\n' "$KEY" >"$OUT/.key"
  say "compiled in $((SECONDS - START))s"
fi
say "plugin $VERSION: $BIN, $(du -m "$BIN" | cut -f1) MiB"

# Register with the engine so no download is ever attempted (env.sh forbids them anyway).
if command -v pulumi >/dev/null; then
  registered="$PULUMI_HOME/plugins/resource-command-v$VERSION/pulumi-resource-command"
  if cmp -s "$BIN" "$registered"; then
    say "already registered with $(command -v pulumi)"
  else
    msg="$(pulumi plugin install resource command "$VERSION" --file "$BIN" --reinstall 2>&1)" ||
      die "registering the plugin failed: $msg"
    say "registered: pulumi plugin install resource command $VERSION --file $BIN"
  fi
else
  say "no pulumi CLI yet (tools/toolchain/build.sh cli): plugin not registered"
fi
say "done in $((SECONDS - START))s"
