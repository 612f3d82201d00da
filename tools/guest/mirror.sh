#!/usr/bin/env bash
# An internal apt repository for air-gapped guests.
#
# usage: tools/guest/mirror.sh [--out DIR] [--serve PORT|auto] [--flat NAME=DIR]... PKG...
#        tools/guest/mirror.sh --stop [PORT]
#
# Downloads PKG... plus every dependency (and recommendation) that the base image
# (image.sh) does not already have, computed by apt against the image's own dpkg status,
# and indexes them with apt-ftparchive as suite "bookworm", component "main".
# Cached under ${GROUNDWORK_CACHE:-~/.cache/groundwork}/guest/mirror-<key>/, key = hash of
# the package list, the base image and this script. --out copies the repository to DIR.
# --serve starts a static HTTP server on 127.0.0.1:PORT ("auto" picks a free port) and
# records its PID under .state/guest/; --stop stops it (all recorded mirrors without PORT).
# --flat NAME=DIR adds a flat repository (DIR holds *.deb, Packages, Release, as
# tools/packages/kubernetes-debs.ts writes it) at http://10.0.2.100/NAME/ (apt line
# "deb [trusted=yes] http://10.0.2.100/NAME/ /"); the Debian packages its .debs depend on
# join PKG... so the mirror holds their closure too.
# Guests booted by boot.sh --mirror-port PORT see it as http://10.0.2.100/, so their only
# apt source is:  deb [trusted=yes] http://10.0.2.100/ bookworm main
# Prints MIRROR_* lines on stdout; progress goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

SUITE=bookworm
GUEST_URL=http://10.0.2.100/

usage() { die "usage: mirror.sh [--out DIR] [--serve PORT|auto] [--flat NAME=DIR]... PKG...  |  mirror.sh --stop [PORT]"; }

stop_mirrors() {
  local port=${1:-} file pid stopped=0 files
  [[ -z $port || $port =~ ^[0-9]+$ ]] || die "--stop takes a port number, got '$port'"
  shopt -s nullglob
  if [[ -n $port ]]; then files=("$GW_STATE/mirror-$port.pid"); else files=("$GW_STATE"/mirror-*.pid); fi
  for file in "${files[@]}"; do
    [[ -f $file ]] || continue
    pid=$(cat "$file")
    stop_pid "$pid" http.server
    rm -f "$file"
    log "stopped mirror pid $pid ($(basename "$file" .pid))"
    stopped=$((stopped + 1))
  done
  [[ $stopped -gt 0 ]] || log "no recorded mirror${port:+ on port $port} to stop"
}

out="" serve="" pkgs=() flats=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift 2 ;;
    --serve) [[ $# -ge 2 ]] || usage; serve=$2; shift 2 ;;
    --stop) stop_mirrors "${2:-}"; exit 0 ;;
    --flat) [[ $# -ge 2 ]] || usage
      [[ $2 =~ ^[a-z0-9][a-z0-9-]*=. ]] || die "--flat takes NAME=DIR with NAME a-z, 0-9, '-', got '$2'"
      [[ -f ${2#*=}/Packages ]] || die "--flat $2: ${2#*=} holds no Packages index (build it with apt-ftparchive packages)"
      flats+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) [[ $1 =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "'$1' is not a Debian package name"
       pkgs+=("$1"); shift ;;
  esac
done
# The Debian packages the flat repositories' packages depend on (first of each alternative),
# except those the flat repositories provide themselves.
flat_names=()
for flat in "${flats[@]}"; do
  mapfile -t -O "${#flat_names[@]}" flat_names < <(sed -n 's/^Package: //p' "${flat#*=}/Packages")
done
for flat in "${flats[@]}"; do
  while read -r dep; do
    [[ -n $dep ]] || continue
    printf '%s\n' "${flat_names[@]}" | grep -qxF "$dep" || pkgs+=("$dep")
  done < <(sed -n 's/^Depends: //p' "${flat#*=}/Packages" | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*//; s/[[:space:]]//g')
done
[[ ${#pkgs[@]} -gt 0 ]] || usage
[[ -z $serve || $serve == auto || ($serve =~ ^[0-9]+$ && $serve -ge 1024 && $serve -le 65535) ]] \
  || die "--serve takes a port 1024-65535 or 'auto', got '$serve'"
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)

image_dir=$("$HERE/image.sh" | sed -n 's/^GUEST_IMAGE_DIR=//p')
[[ -f $image_dir/dpkg-status ]] || die "base image at '$image_dir' has no dpkg-status; rebuild it with image.sh --rebuild"
key=$( { printf '%s\n' "${pkgs[@]}"; basename "$image_dir"; cat "${BASH_SOURCE[0]}"
  for flat in "${flats[@]}"; do printf '%s %s\n' "${flat%%=*}" "$(sha256sum <"${flat#*=}/Packages")"; done; } | sha256sum | cut -c1-16)
repo=$GW_GUEST_CACHE/mirror-$key

build_repo() {
  need_root
  need_pkgs apt-ftparchive:apt-utils
  local build=$GW_GUEST_CACHE/.build-mirror-$key
  rm -rf "$build"
  mkdir -p "$build/state" "$build/cache/archives/partial" "$build/out/pool" \
    "$build/out/dists/$SUITE/main/binary-amd64"
  cp "$image_dir/dpkg-status" "$build/state/status"
  : >"$build/state/extended_states"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "host apt lists are empty: apt-get update"
    apt-get update -q >&2
  fi
  # apt plans the install as if it ran inside the base image: the host's package lists,
  # the image's dpkg status. Whatever it would install is what the mirror must hold.
  local apt_opts=(-o "Dir::State::status=$build/state/status"
    -o "Dir::State::extended_states=$build/state/extended_states"
    -o "Dir::Cache=$build/cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Install-Recommends=true -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  local plan
  if ! plan=$(apt-get "${apt_opts[@]}" -s install "${pkgs[@]}" 2>&1); then
    printf '%s\n' "$plan" | tail -n 15 >&2
    die "apt cannot resolve ${pkgs[*]} against the base image (output above)"
  fi
  local wanted
  mapfile -t wanted < <(printf '%s\n' "$plan" | awk '$1 == "Inst" { v = $3; if (v ~ /^\[/) v = $4; sub(/^\(/, "", v); print $2 "=" v }')
  if [[ ${#wanted[@]} -eq 0 ]]; then
    log "warning: ${pkgs[*]} already in the base image; the mirror will be empty"
  else
    log "downloading ${#wanted[@]} packages (${pkgs[*]} + closure beyond the base image)"
  fi
  if [[ ${#wanted[@]} -gt 0 ]] && ! (cd "$build/out/pool" && apt-get -q -o APT::Sandbox::User=root download "${wanted[@]}" >"$build/download.log" 2>&1); then
    tail -n 15 "$build/download.log" >&2
    die "apt-get download failed (output above)"
  fi
  printf '%s\n' "${wanted[@]}" | sed '/^$/d' >"$build/out/closure.txt"
  printf '%s\n' "${pkgs[@]}" >"$build/out/requested.txt"
  (
    cd "$build/out"
    apt-ftparchive packages pool >"dists/$SUITE/main/binary-amd64/Packages" 2>/dev/null
    gzip -9nk "dists/$SUITE/main/binary-amd64/Packages"
    apt-ftparchive -o "APT::FTPArchive::Release::Origin=groundwork" \
      -o "APT::FTPArchive::Release::Label=groundwork-airgap" \
      -o "APT::FTPArchive::Release::Suite=$SUITE" -o "APT::FTPArchive::Release::Codename=$SUITE" \
      -o "APT::FTPArchive::Release::Architectures=amd64" \
      -o "APT::FTPArchive::Release::Components=main" \
      release "dists/$SUITE" >"$build/Release"
    mv "$build/Release" "dists/$SUITE/Release"
  )
  for flat in "${flats[@]}"; do
    mkdir -p "$build/out/${flat%%=*}"
    cp -a "${flat#*=}/." "$build/out/${flat%%=*}/"
    log "flat repository ${flat%%=*}/: $(find "$build/out/${flat%%=*}" -name '*.deb' | wc -l) packages from ${flat#*=}"
  done
  touch "$build/out/complete"
  rm -rf "$repo"
  mv "$build/out" "$repo"
  rm -rf "$build"
}

if [[ -f $repo/complete ]]; then
  log "mirror cache hit: $repo"
else
  mkdir -p "$GW_GUEST_CACHE"
  exec 9>"$GW_GUEST_CACHE/.lock-mirror-$key"
  flock 9
  [[ -f $repo/complete ]] || build_repo
  exec 9>&-
fi
count=$(wc -l <"$repo/closure.txt")
size=$(du -sm "$repo/pool" | cut -f1)
log "mirror ready: $count packages, ${size} MiB"

if [[ -n $out ]]; then
  mkdir -p "$out"
  cp -a "$repo/." "$out/"
  repo=$(cd "$out" && pwd)
  log "copied to $repo"
fi
echo "MIRROR_DIR=$repo"
echo "MIRROR_PACKAGES=$count"
echo "MIRROR_MIB=$size"
echo "MIRROR_GUEST_URL=$GUEST_URL"
echo "MIRROR_APT_LINE=deb [trusted=yes] $GUEST_URL $SUITE main"

[[ -n $serve ]] || exit 0
need_pkgs curl:curl python3:python3
port=$serve
[[ $port != auto ]] || port=$(free_port)
mkdir -p "$GW_STATE"
pidfile=$GW_STATE/mirror-$port.pid
if [[ -f $pidfile ]] && pid_alive "$(cat "$pidfile")" http.server; then
  die "a mirror is already served on port $port (pid $(cat "$pidfile")); stop it with: mirror.sh --stop $port"
fi
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3)
nohup "$py" -m http.server --bind 127.0.0.1 --directory "$repo" "$port" \
  >"$GW_STATE/mirror-$port.log" 2>&1 </dev/null &
echo $! >"$pidfile"
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/dists/$SUITE/Release" 2>/dev/null && break
  pid_alive "$(cat "$pidfile")" http.server || die "mirror server exited: $(tail -n 3 "$GW_STATE/mirror-$port.log")"
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/dists/$SUITE/Release" \
  || die "mirror server on 127.0.0.1:$port does not answer (log: $GW_STATE/mirror-$port.log)"
log "serving $repo on http://127.0.0.1:$port/ (pid $(cat "$pidfile"))"
echo "MIRROR_PORT=$port"
echo "MIRROR_PID=$(cat "$pidfile")"
