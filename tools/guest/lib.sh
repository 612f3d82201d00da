# shellcheck shell=bash disable=SC2034  # the GW_* variables are used by the sourcing scripts
# Shared helpers for tools/guest/*.sh (sourced, never executed).

GW_CACHE=${GROUNDWORK_CACHE:-$HOME/.cache/groundwork}
GW_GUEST_CACHE=$GW_CACHE/guest
GW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GW_STATE=${GROUNDWORK_STATE:-$GW_REPO/.state}/guest
GW_T0=$(date +%s.%N)

# Seconds since the script started, one decimal.
elapsed() {
  awk -v a="$(date +%s.%N)" -v b="$GW_T0" 'BEGIN { printf "%.1f", a - b }'
}

# Progress line on stderr with seconds since the script started.
log() {
  printf '[%6.1fs] %s\n' "$(elapsed)" "$*" >&2
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

need_root() {
  [[ $EUID -eq 0 ]] || die "$(basename "$0") must run as root (debootstrap, apt-get and mkfs need it)"
}

# need_pkgs CMD:PACKAGE... installs each Debian package whose command is missing.
need_pkgs() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  need_root
  log "installing host packages: ${missing[*]}"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -qq >&2 || die "apt-get update failed"
  fi
  local out
  if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1); then
    printf '%s\n' "$out" | tail -n 15 >&2
    die "apt-get install ${missing[*]} failed (output above)"
  fi
}

# The Debian mirror this host's apt already uses (deb822 or one-line format).
host_debian_mirror() {
  local uri=""
  if [[ -n ${GROUNDWORK_DEBIAN_MIRROR:-} ]]; then
    uri=$GROUNDWORK_DEBIAN_MIRROR
  elif [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [[ -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pid_alive PID MARKER: true when PID runs and its command line contains MARKER,
# so a recycled PID of somebody else's process is never mistaken for ours.
pid_alive() {
  local pid=$1 marker=$2
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# stop_pid PID MARKER: TERM, wait up to 10 s, then KILL; only if pid_alive.
stop_pid() {
  local pid=$1 marker=$2
  pid_alive "$pid" "$marker" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pid_alive "$pid" "$marker" || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}
