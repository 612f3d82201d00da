#!/usr/bin/env bash
# Builds vcsim (the vSphere API simulator) and govc from govmomi as a Go module into the groundwork
# cache, for the migration planner's govc-JSON test:
#   $GROUNDWORK_CACHE/vcsim/<version>-<go version>/bin/{vcsim,govc}
# with its own Go module and build caches beside it (a cold cache is really cold).
# v0.46.3 is the last govmomi release where vcsim is a main package of the root module
# (shared/recipes/go-modules-served.md). A second run with the same key prints the path and exits.
# Prints the bin folder on its last line.
set -euo pipefail
VERSION="${GOVMOMI_VERSION:-v0.46.3}"
CACHE="${GROUNDWORK_CACHE:-$HOME/.cache/groundwork}"
GOV="$(go env GOVERSION)"
DIR="$CACHE/vcsim/$VERSION-$GOV"
START=$SECONDS
if [ -x "$DIR/bin/vcsim" ] && [ -x "$DIR/bin/govc" ]; then
  echo "[vcsim] cached: govmomi $VERSION ($GOV)" >&2
  echo "$DIR/bin"
  exit 0
fi
mkdir -p "$DIR"
tmp="$DIR/bin.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "[vcsim] building vcsim and govc from github.com/vmware/govmomi@$VERSION ($GOV, -p 2)" >&2
GOBIN="$tmp" GOMODCACHE="$CACHE/vcsim/gomod" GOCACHE="$CACHE/vcsim/gocache" GOFLAGS="-mod=mod -modcacherw" CGO_ENABLED=0 nice -n 10 go install -p 2 -trimpath -ldflags "-s -w" \
  "github.com/vmware/govmomi/vcsim@$VERSION" "github.com/vmware/govmomi/govc@$VERSION" >&2
rm -rf "${DIR:?}/bin"; mv "$tmp" "$DIR/bin"
echo "[vcsim] built in $((SECONDS - START)) s" >&2
echo "$DIR/bin"
