#!/usr/bin/env bash
# A real OpenStack API (Debian 12, OpenStack Zed) on 127.0.0.1 for groundwork's integration tests:
# keystone, placement, glance, neutron (ML2, agentless 'fakebind' driver), nova with three fake
# compute hosts, on a private MariaDB (port 3307) and RabbitMQ. No guest ever runs.
# With --guests (kept in the state dir): one libvirt compute host instead, whose guests really run
# (qemu TCG), booted from the project's Debian image in Glance, addressed by the config drive.
#
# Usage: local.sh [--state DIR] start [--guests] | stop [--purge] | status | env | smoke | kill SERVICE | revive
#   kill neutron|nova-api: KILL that API service's process tree, as a crash would (fault tests);
#   revive: start again the API services kill stopped, while the rest runs
#   state dir: --state DIR, else $GROUNDWORK_OPENSTACK_STATE, else <repo>/.state/openstack
# Exit codes: 0 ok, 1 failure, 2 a port is taken, 3 (status/smoke) not every service is up.
set -euo pipefail

TOOL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TOOL/../.." && pwd)
OSC=/usr/bin/openstack
T0=${EPOCHREALTIME/./}
PKGS=(python3-keystone python3-nova python3-glance python3-placement python3-neutron
  python3-openstackclient rabbitmq-server uwsgi-core uwsgi-plugin-python3 mariadb-server
  procps iproute2)
# --guests adds these (libvirt, the QEMU driver, config drives)
GUEST_PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients python3-libvirt
  qemu-system-x86 qemu-utils genisoimage sudo dnsmasq-base)
# start order; stop goes the other way round (set_mode picks the compute hosts)
BASE_SERVICES=(mariadb epmd rabbitmq keystone placement glance neutron nova-api nova-conductor
  nova-scheduler)
set_mode() {
  MODE=$1
  if [[ $MODE == guests ]]; then
    COMPUTES=(nova-compute-libvirt)
    SERVICES=("${BASE_SERVICES[@]}" libvirtd nova-compute-libvirt)
    PKGS+=("${GUEST_PKGS[@]}")
  else
    COMPUTES=(nova-compute-1 nova-compute-2 nova-compute-3)
    SERVICES=("${BASE_SERVICES[@]}" "${COMPUTES[@]}")
  fi
  COMPUTE_HOSTS=${#COMPUTES[@]}
}
declare -A PORT=([mariadb]=3307 [epmd]=4369 [rabbitmq]=5672 [keystone]=5000 [placement]=8778
  [glance]=9292 [neutron]=9696 [nova-api]=8774)
# every port start needs, with what it is for (25672: RabbitMQ's Erlang distribution port)
PORT_USES=("3307:MariaDB" "4369:Erlang epmd (RabbitMQ)" "5672:RabbitMQ AMQP"
  "25672:RabbitMQ Erlang distribution" "5000:Keystone identity API" "8778:Placement API"
  "9292:Glance image API" "9696:Neutron network API" "8774:Nova compute API")

ts() {
  local d=$((${EPOCHREALTIME/./} - T0))
  printf '[%4d.%ds] %s\n' $((d / 1000000)) $((d % 1000000 / 100000)) "$*"
}
fail() {
  local code=$1
  shift
  echo "local.sh: error: $*" >&2
  exit "$code"
}
usage() {
  sed -n '6,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

# ---------------------------------------------------------------- processes we started
# A pid file holds "<pid> <start time>": a recycled PID never matches, so we only ever
# signal processes this script launched (and their descendants).
proc_start() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra fields <<<"${stat##*) }"
  echo "${fields[19]}"
}
alive() {
  local pid st
  [[ -f $RUN/$1.pid ]] || return 1
  read -r pid st <"$RUN/$1.pid" || return 1
  [[ $(proc_start "$pid" || true) == "$st" ]] || return 1
  echo "$pid"
}
launch() {
  local name=$1
  shift
  setsid "$@" >"$LOG/$name.out" 2>&1 </dev/null &
  echo "$! $(proc_start $!)" >"$RUN/$name.pid"
}
descendants() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local name=$1 port=$2 i
  for ((i = 0; i < 360; i++)); do
    port_open "$port" && return 0
    alive "$name" >/dev/null || fail 1 "$name exited while starting; see $LOG/$name.out and $LOG/"
    sleep 0.5
  done
  fail 1 "$name did not open port $port within 180 s; see $LOG/"
}
sql() { mariadb --no-defaults -S "$RUN/mysql.sock" -u root -N -B -e "$1"; }

# ---------------------------------------------------------------- setup
ensure_packages() {
  local missing=() p policy=/usr/sbin/policy-rc.d added=""
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ts "installing ${#missing[@]} Debian packages (${missing[*]}); ~2.5 min on a fresh machine"
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq || fail 1 "apt-get update failed"
  fi
  # Debian would start its own rabbitmq/mariadb on install and take our ports: forbid it
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$STATE/apt.log" 2>&1 || {
    [[ -z $added ]] || rm -f "$policy"
    fail 1 "apt-get install failed; see $STATE/apt.log"
  }
  [[ -z $added ]] || rm -f "$policy"
  ts "packages installed"
}
# libvirtd (privileged) looks its compiled-in QEMU user up before it reads qemu.conf, which
# runs the guests as root: Debian's libvirt-daemon-system would create it.
ensure_qemu_user() {
  getent passwd libvirt-qemu >/dev/null && return 0
  useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu ||
    fail 1 "could not create the system user libvirt-qemu that libvirtd looks up"
  ts "created the system user libvirt-qemu (libvirtd looks it up; the guests run as root)"
}

load_secrets() {
  if [[ ! -f $STATE/secrets.env ]]; then
    [[ ${1:-} == create ]] || fail 1 "no OpenStack state in $STATE; run 'local.sh start' first"
    (
      umask 077
      printf 'ADMIN_PW=%s\nDB_PW=%s\n' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" \
        "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >"$STATE/secrets.env"
    )
  fi
  # shellcheck source=/dev/null
  source "$STATE/secrets.env"
  DB=mysql+pymysql://os:$DB_PW@127.0.0.1:3307
  export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_IDENTITY_API_VERSION=3 OS_USERNAME=admin \
    OS_PASSWORD=$ADMIN_PW OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default \
    OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne OS_INTERFACE=public
}

render_configs() {
  local src dst i
  for src in "$TOOL"/etc/*/*.conf; do
    dst=$ETC/${src#"$TOOL"/etc/}
    mkdir -p "${dst%/*}"
    sed -e "s|@STATE@|$STATE|g" -e "s|@TOOL@|$TOOL|g" -e "s|@ADMIN_PW@|$ADMIN_PW|g" \
      -e "s|@DB@|$DB|g" "$src" >"$dst"
  done
  [[ $MODE == guests ]] && return 0
  for ((i = 1; i <= COMPUTE_HOSTS; i++)); do
    printf '[DEFAULT]\nhost = gw-compute-%d\nlog_file = %s/nova-compute-%d.log\n' \
      "$i" "$LOG" "$i" >"$ETC/nova/compute-$i.conf"
  done
}

check_ports() {
  local entry port what holder
  for entry in "${PORT_USES[@]}"; do
    port=${entry%%:*} what=${entry#*:}
    holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -oE 'users:\(\("[^"]+",pid=[0-9]+' |
      head -n1 | sed -E 's/users:\(\("([^"]+)",pid=([0-9]+)/ by \1 (pid \2)/' || true)
    if [[ -n $holder ]] || port_open "$port"; then
      fail 2 "port $port on 127.0.0.1 (for $what) is already in use${holder}; if it is a local OpenStack, see 'local.sh status' or 'local.sh stop' (with the same --state)"
    fi
  done
}

# Runs once per state dir (marker data/<step>.done), in the background beside the others.
# Functions it runs must '|| return 1' each step: set -e does not reach into '&&' lists.
once() {
  local step=$1
  shift
  [[ -f $DATA/$step.done ]] && return 0
  ("$@" && touch "$DATA/$step.done") >"$LOG/init-$step.log" 2>&1 &
  INIT_JOBS+=("$!:$step")
}
wait_init() {
  local job
  for job in "${INIT_JOBS[@]}"; do
    wait "${job%%:*}" || fail 1 "${job#*:} setup failed; see $LOG/init-${job#*:}.log"
  done
  INIT_JOBS=()
}
# migrate "<dbs>" cmd...: load the freshly migrated schemas of <dbs> from the cache (keyed by
# package versions), else run the migration cmd and cache its result. Dumps are taken before
# any secret or path is written, so they fit every state dir.
migrate() {
  local dbs db
  read -ra dbs <<<"$1"
  shift
  for db in "${dbs[@]}"; do [[ -s $SCHEMAS/$db.sql ]] || break; done
  if [[ -s $SCHEMAS/$db.sql ]]; then
    for db in "${dbs[@]}"; do
      echo "loading cached schema $SCHEMAS/$db.sql"
      mariadb --no-defaults -S "$RUN/mysql.sock" -u root "$db" <"$SCHEMAS/$db.sql" || return 1
    done
    return 0
  fi
  "$@" || return 1
  mkdir -p "$SCHEMAS"
  for db in "${dbs[@]}"; do
    mariadb-dump --no-defaults -S "$RUN/mysql.sock" -u root --skip-dump-date "$db" \
      >"$SCHEMAS/$db.sql.tmp$$" && mv "$SCHEMAS/$db.sql.tmp$$" "$SCHEMAS/$db.sql" || return 1
  done
}
init_keystone() {
  local k=(/usr/bin/keystone-manage --config-file "$ETC/keystone/keystone.conf")
  local url=http://127.0.0.1:5000/v3/
  migrate keystone "${k[@]}" db_sync || return 1
  "${k[@]}" fernet_setup --keystone-user root --keystone-group root || return 1
  "${k[@]}" credential_setup --keystone-user root --keystone-group root || return 1
  "${k[@]}" bootstrap --bootstrap-password "$ADMIN_PW" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$url" --bootstrap-public-url "$url" --bootstrap-internal-url "$url"
}
init_nova() {
  local n=("$TOOL/bin/nova-manage" --config-file "$ETC/nova/nova.conf") rc=0
  migrate nova_api "${n[@]}" api_db sync || return 1
  "${n[@]}" cell_v2 map_cell0 --database_connection "$DB/nova_cell0" || return 1
  "${n[@]}" cell_v2 create_cell --name cell1 || rc=$?
  ((rc == 0 || rc == 2)) || return 1 # 2: cell1 exists already
  migrate "nova nova_cell0" "${n[@]}" db sync
}
init_catalog() {
  "$OSC" <<'EOF'
service create --name placement placement
endpoint create --region RegionOne placement public http://127.0.0.1:8778
service create --name glance image
endpoint create --region RegionOne image public http://127.0.0.1:9292
service create --name nova compute
endpoint create --region RegionOne compute public http://127.0.0.1:8774/v2.1
service create --name neutron network
endpoint create --region RegionOne network public http://127.0.0.1:9696
EOF
}

wait_nova() {
  local since=$1 i s services mappings providers
  for ((i = 0; i < 240; i++)); do
    # a service row is refreshed ~5 s after its RPC server is up; placement and host
    # mappings show each compute host is schedulable
    read -r services mappings providers < <(sql "SELECT
      (SELECT COUNT(*) FROM nova.services WHERE deleted=0 AND updated_at>='$since'),
      (SELECT COUNT(*) FROM nova_api.host_mappings),
      (SELECT COUNT(*) FROM placement.resource_providers)")
    ((services >= COMPUTE_HOSTS + 2 && mappings >= COMPUTE_HOSTS && providers >= COMPUTE_HOSTS)) &&
      return 0
    for s in nova-api nova-conductor nova-scheduler "${COMPUTES[@]}"; do
      alive "$s" >/dev/null || fail 1 "$s exited while starting; see $LOG/"
    done
    sleep 0.5
  done
  fail 1 "nova services did not report in within 120 s; see $LOG/"
}

fixtures() {
  local cmds=() have small=5
  have=$(sql "SELECT name FROM nova_api.flavors; SELECT name FROM glance.images
    WHERE deleted=0 AND status='active'")
  [[ $MODE == guests ]] && small=8 # the real image's disk is 6 GiB
  grep -qx gw.small <<<"$have" || cmds+=("flavor create --vcpus 1 --ram 1024 --disk $small gw.small")
  grep -qx gw.medium <<<"$have" || cmds+=("flavor create --vcpus 2 --ram 2048 --disk 10 gw.medium")
  if [[ $MODE == guests ]]; then
    grep -qx debian-12 <<<"$have" || guest_image
  elif ! grep -qx debian-12 <<<"$have"; then
    head -c 1048576 /dev/zero >"$DATA/debian-12.raw" # no guest boots: any bytes will do
    cmds+=("image create --disk-format raw --container-format bare --public --property os_distro=debian --property os_version=12 --file $DATA/debian-12.raw debian-12")
  fi
  cmds+=("quota set --instances 50 --cores 200 --ram 409600 --server-groups 20 --server-group-members 20 --ports 200 --secgroups 50 --secgroup-rules 500 --networks 50 --subnets 50 admin")
  printf '%s\n' "${cmds[@]}" | "$OSC" >"$LOG/fixtures.log" 2>&1 ||
    fail 1 "creating flavors/image/quotas failed; see $LOG/fixtures.log"
  grep -qi error "$LOG/fixtures.log" && fail 1 "creating flavors/image/quotas failed; see $LOG/fixtures.log"
  return 0
}

# ---------------------------------------------------------------- subcommands
do_start() {
  local running=() stopped=() s i uw since
  for s in "${SERVICES[@]}"; do
    if alive "$s" >/dev/null; then running+=("$s"); else stopped+=("$s"); fi
  done
  if ((${#stopped[@]} == 0)); then
    echo "local OpenStack already running from $STATE (${#running[@]} services); see 'local.sh status'"
    return 0
  fi
  ((${#running[@]} == 0)) || fail 1 "only part of the local OpenStack in $STATE runs (stopped: ${stopped[*]}); run 'local.sh stop' first"
  [[ $EUID -eq 0 ]] || fail 1 "start must run as root (MariaDB, RabbitMQ and apt-get)"
  [[ -d $STATE ]] || mkdir -p "$STATE"
  chmod 700 "$STATE"
  touch "$STATE/.groundwork-openstack"
  echo "$MODE" >"$STATE/mode"
  ensure_packages
  [[ $MODE == guests ]] && ensure_qemu_user
  SCHEMAS=$SCHEMAS/$(dpkg-query -W -f='${Version} ' python3-keystone python3-nova python3-glance \
    python3-placement python3-neutron mariadb-server | md5sum | cut -c1-12)
  check_ports
  mkdir -p "$ETC" "$LOG" "$RUN" "$DATA"/{images,glance-staging,glance-tasks,nova/locks,neutron/lock,rabbitmq}
  load_secrets create
  render_configs
  trap 'rc=$?; if ((rc != 0)); then echo "start failed: stopping what it started (logs stay in $LOG)" >&2; do_stop >&2 || true; fi' EXIT
  ts "starting local OpenStack from $STATE"

  # 1. MariaDB (own datadir, no system config), epmd + RabbitMQ (own mnesia dir), as root
  if [[ ! -d $DATA/mysql/mysql ]]; then
    rm -rf "$DATA/mysql"
    mariadb-install-db --no-defaults --user=root --datadir="$DATA/mysql" --skip-test-db \
      --auth-root-authentication-method=socket >"$LOG/init-mysql.log" 2>&1 ||
      fail 1 "mariadb-install-db failed; see $LOG/init-mysql.log"
  fi
  launch mariadb /usr/sbin/mariadbd --no-defaults --user=root --datadir="$DATA/mysql" \
    --socket="$RUN/mysql.sock" --port=3307 --bind-address=127.0.0.1 --skip-name-resolve \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
    --max-connections=500 --log-error="$LOG/mariadb.log"
  launch epmd /usr/lib/erlang/bin/epmd -address 127.0.0.1
  launch rabbitmq env HOME="$DATA/rabbitmq" RABBITMQ_NODENAME=rabbit@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=25672 \
    RABBITMQ_LOG_BASE="$LOG/rabbitmq" RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
  wait_port mariadb 3307
  sql "CREATE USER IF NOT EXISTS 'os'@'127.0.0.1' IDENTIFIED BY '$DB_PW';
    GRANT ALL ON *.* TO 'os'@'127.0.0.1';
    $(for d in keystone placement glance neutron nova nova_api nova_cell0; do
    echo "CREATE DATABASE IF NOT EXISTS $d;"; done)"
  ts "mariadb up on 3307; rabbitmq starting"

  # 2. schemas (first start only, in parallel), keystone first: everything else needs it
  INIT_JOBS=()
  once placement migrate placement /usr/bin/placement-manage \
    --config-file "$ETC/placement/placement.conf" db sync
  once glance migrate glance "$TOOL/bin/glance-manage" --config-file "$ETC/glance/glance-api.conf" db_sync
  once neutron migrate neutron "$TOOL/bin/neutron-db-manage" \
    --config-file "$ETC/neutron/neutron.conf" upgrade heads
  once nova init_nova
  [[ -f $DATA/keystone.done ]] || { init_keystone >"$LOG/init-keystone.log" 2>&1 &&
    touch "$DATA/keystone.done"; } || fail 1 "keystone setup failed; see $LOG/init-keystone.log"
  uw=(/usr/bin/uwsgi --plugin python3 --master --die-on-term --lazy-apps --processes 1 --threads 4
    --add-header Connection:close)
  launch keystone "${uw[@]}" --http-socket 127.0.0.1:5000 --wsgi-file /usr/bin/keystone-wsgi-public \
    --env OS_KEYSTONE_CONFIG_FILES="$ETC/keystone/keystone.conf"
  wait_port keystone 5000
  ts "keystone up on 5000"
  [[ -f $DATA/catalog.done ]] || { init_catalog >"$LOG/init-catalog.log" 2>&1 &&
    touch "$DATA/catalog.done"; } || fail 1 "service catalog setup failed; see $LOG/init-catalog.log"
  wait_init
  ts "databases and service catalog ready"

  # 3. the API services, then nova (needs RabbitMQ)
  launch placement "${uw[@]}" --http-socket 127.0.0.1:8778 --wsgi-file /usr/bin/placement-api \
    --env OS_PLACEMENT_CONFIG_DIR="$ETC/placement"
  launch glance "$TOOL/bin/glance-api" --config-file "$ETC/glance/glance-api.conf"
  wait_port rabbitmq 5672
  ts "rabbitmq up on 5672"
  launch_api neutron
  since=$(sql "SELECT UTC_TIMESTAMP()")
  launch_api nova-api
  for s in nova-conductor nova-scheduler; do
    launch "$s" "$TOOL/bin/$s" --config-file "$ETC/nova/nova.conf"
  done
  if [[ $MODE == guests ]]; then
    start_libvirtd
    launch nova-compute-libvirt "$TOOL/bin/nova-compute" --config-file "$ETC/nova/nova.conf" \
      --config-file "$ETC/nova/compute-libvirt.conf"
  else
    for ((i = 1; i <= COMPUTE_HOSTS; i++)); do
      launch "nova-compute-$i" "$TOOL/bin/nova-compute" --config-file "$ETC/nova/nova.conf" \
        --config-file "$ETC/nova/compute-$i.conf"
    done
  fi
  for s in placement glance neutron nova-api; do wait_port "$s" "${PORT[$s]}"; done
  ts "placement, glance, neutron, nova-api listening"
  wait_nova "$since"
  if [[ $MODE == guests ]]; then
    ts "nova conductor, scheduler and the libvirt compute host gw-libvirt (qemu TCG) reporting"
  else
    ts "nova conductor, scheduler and $COMPUTE_HOSTS compute hosts (gw-compute-1..$COMPUTE_HOSTS) reporting"
  fi
  fixtures
  trap - EXIT
  if [[ $MODE == guests ]]; then
    ts "flavors gw.small/gw.medium (8/10 GB disks), the bootable image debian-12 (+ its kernel and initrd), admin quotas in place"
  else
    ts "flavors gw.small/gw.medium, image debian-12, admin quotas in place"
  fi
  ts "local OpenStack ready (credentials: eval \"\$($TOOL/local.sh --state $STATE env)\")"
}

# --guests: the project's Debian 12 guest image (tools/guest/image.sh, cached) as three Glance
# images: kernel (aki), initrd (ari) and the ext4 disk (qcow2) that names them; Nova's libvirt
# driver boots it like boot.sh does (-kernel/-initrd, root=/dev/vda), and cloud-init reads the
# config drive (the image's own list names only NoCloud: the kernel line overrides it).
GUEST_CMDLINE="root=/dev/vda rw console=ttyS0 net.ifnames=0 clocksource=tsc tsc=reliable ci.ds=ConfigDrive cc: datasource_list: [ConfigDrive, None] end_cc"
guest_image() {
  local dir kernel ramdisk out
  out=$("$REPO/tools/guest/image.sh" 2>"$LOG/guest-image.log") || fail 1 "building the guest image failed; see $LOG/guest-image.log"
  dir=$(sed -n 's/^GUEST_IMAGE_DIR=//p' <<<"$out")
  [[ -f $dir/base.qcow2 ]] || fail 1 "tools/guest/image.sh named no image (got '$out')"
  ts "uploading the guest image from $dir to Glance ($(du -m "$dir/base.qcow2" | cut -f1) MiB)"
  kernel=$("$OSC" image create --disk-format aki --container-format aki --public --file "$dir/vmlinuz" -f value -c id debian-12-kernel) ||
    fail 1 "uploading the guest kernel failed"
  ramdisk=$("$OSC" image create --disk-format ari --container-format ari --public --file "$dir/initrd.img" -f value -c id debian-12-initrd) ||
    fail 1 "uploading the guest initrd failed"
  "$OSC" image create --disk-format qcow2 --container-format bare --public --property os_distro=debian \
    --property os_version=12 --property kernel_id="$kernel" --property ramdisk_id="$ramdisk" \
    --property os_command_line="$GUEST_CMDLINE" --file "$dir/base.qcow2" debian-12 >"$LOG/guest-image-upload.log" 2>&1 ||
    fail 1 "uploading the guest disk failed; see $LOG/guest-image-upload.log"
}

# --guests: libvirtd in a private mount namespace (its /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt are folders of the state dir), so the machine's own
# libvirt configuration is neither read nor changed; nova-compute reaches it by the socket's path.
LIBVIRT_DIRS=(run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt)
libvirt_uri() { echo "qemu+unix:///system?socket=$DATA/libvirt/run/libvirt-sock"; }
start_libvirtd() {
  local d i binds="mount --bind '$ETC/libvirt' /etc/libvirt"
  for d in "${LIBVIRT_DIRS[@]}"; do
    mkdir -p "$DATA/libvirt/${d%%:*}" "${d#*:}"
    binds+=" && mount --bind '$DATA/libvirt/${d%%:*}' '${d#*:}'"
  done
  mkdir -p /etc/libvirt "$DATA/nova/instances"
  launch libvirtd unshare --mount --propagation private /bin/sh -c "$binds && exec /usr/sbin/libvirtd"
  for ((i = 0; i < 120; i++)); do
    virsh -c "$(libvirt_uri)" version >/dev/null 2>&1 && { ts "libvirtd up ($(libvirt_uri))"; return 0; }
    alive libvirtd >/dev/null || fail 1 "libvirtd exited while starting; see $LOG/libvirtd.out and $LOG/libvirtd.log"
    sleep 0.5
  done
  fail 1 "libvirtd did not answer on $(libvirt_uri) within 60 s; see $LOG/libvirtd.log"
}
# Before libvirtd stops: its guests (qemu is not its child), then the bridges fakebind made.
stop_guests() {
  local dom pids=()
  if alive libvirtd >/dev/null; then
    for dom in $(virsh -c "$(libvirt_uri)" list --name 2>/dev/null); do
      virsh -c "$(libvirt_uri)" destroy "$dom" >/dev/null 2>&1 && echo "destroyed guest $dom"
    done
  fi
  mapfile -t pids < <(pgrep -f -- "$DATA/nova/instances/" || true)
  ((${#pids[@]} == 0)) || { echo "killing leftover guests: ${pids[*]}"; kill -KILL "${pids[@]}" 2>/dev/null || true; }
}
# fakebind's dnsmasq per bridge (DHCP in place of Neutron's agent), by the PID files it wrote
stop_dhcp() {
  local f pid
  for f in "$RUN"/dhcp/*/dnsmasq.pid; do
    [[ -f $f ]] || continue
    read -r pid <"$f" || continue
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dnsmasq ]]; then
      kill -TERM "$pid" 2>/dev/null && echo "stopped dnsmasq pid $pid ($(basename "$(dirname "$f")"))"
    fi
  done
  rm -rf "$RUN/dhcp"
}
remove_bridges() {
  local b
  [[ -f $RUN/bridges ]] || return 0
  while read -r b; do
    [[ $b == gwq* ]] && ip link del "$b" 2>/dev/null && echo "deleted bridge $b"
  done < <(sort -u "$RUN/bridges")
  rm -f "$RUN/bridges"
}

# The API services a fault test kills and revives.
FAULT_SERVICES=(neutron nova-api)
launch_api() {
  case $1 in
  neutron) launch neutron env PYTHONPATH="$TOOL/pylib" "$TOOL/bin/neutron-server" --config-file "$ETC/neutron/neutron.conf" ;;
  nova-api) launch nova-api "$TOOL/bin/nova-api" --config-file "$ETC/nova/nova.conf" ;;
  *) fail 1 "launch_api: unknown service '$1'" ;;
  esac
}

do_kill() {
  local pid tree=()
  [[ " ${FAULT_SERVICES[*]} " == *" $SVC "* ]] || fail 1 "kill takes one of: ${FAULT_SERVICES[*]} (got '${SVC}')"
  pid=$(alive "$SVC") || fail 1 "$SVC is not running from $STATE"
  mapfile -t tree < <(descendants "$pid")
  kill -KILL "${tree[@]}" 2>/dev/null || true
  rm -f "$RUN/$SVC.pid"
  ts "killed $SVC (${#tree[@]} processes) from $STATE"
}

do_revive() {
  local s revived=0
  alive keystone >/dev/null || fail 1 "the local OpenStack in $STATE is not running; use start"
  for s in "${FAULT_SERVICES[@]}"; do
    alive "$s" >/dev/null && continue
    port_open "${PORT[$s]}" && fail 2 "port ${PORT[$s]} for $s is taken by another process"
    launch_api "$s"
    wait_port "$s" "${PORT[$s]}"
    ts "$s up again on ${PORT[$s]}"
    revived=$((revived + 1))
  done
  ((revived > 0)) || echo "nothing to revive: ${FAULT_SERVICES[*]} run"
}

do_stop() {
  local s pid all=() tree lines=() i alive_left
  [[ $MODE == guests ]] && stop_guests
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    s=${SERVICES[i]}
    pid=$(alive "$s") || { rm -f "$RUN/$s.pid"; continue; }
    mapfile -t tree < <(descendants "$pid")
    all+=("${tree[@]}")
    lines+=("$(printf '%-16s pid %-7s (+%d child processes)' "$s" "$pid" $((${#tree[@]} - 1)))")
  done
  if ((${#all[@]} == 0)); then
    echo "nothing from $STATE is running"
  else
    kill -TERM "${all[@]}" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      alive_left=()
      for pid in "${all[@]}"; do kill -0 "$pid" 2>/dev/null && alive_left+=("$pid"); done
      ((${#alive_left[@]})) || break
      sleep 0.5
    done
    if ((${#alive_left[@]})); then
      echo "still running after 30 s, sending KILL: ${alive_left[*]}"
      kill -KILL "${alive_left[@]}" 2>/dev/null || true
    fi
    printf 'stopped %s\n' "${lines[@]}"
    ts "stopped ${#lines[@]} services (${#all[@]} processes) from $STATE"
  fi
  [[ $MODE == guests ]] && { stop_dhcp; remove_bridges; }
  [[ -d $RUN ]] && rm -f "$RUN"/*.pid "$RUN/mysql.sock"
  if [[ $PURGE == 1 && -d $STATE ]]; then
    [[ -f $STATE/.groundwork-openstack ]] || fail 1 "$STATE was not made by local.sh; not deleting it"
    rm -rf "$STATE"
    echo "deleted $STATE"
  fi
}

do_status() {
  local s pid port rc=0 state
  for s in "${SERVICES[@]}"; do
    port=${PORT[$s]:-}
    if pid=$(alive "$s"); then
      state=running
      [[ -z $port ]] || port_open "$port" || { state=starting rc=3; }
    else
      state=stopped pid=- rc=3
    fi
    printf '%-16s %-8s pid %-7s port %s\n' "$s" "$state" "$pid" "${port:--}"
  done
  return "$rc"
}

do_env() {
  load_secrets
  local v
  for v in OS_AUTH_URL OS_IDENTITY_API_VERSION OS_USERNAME OS_PASSWORD OS_PROJECT_NAME \
    OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME OS_REGION_NAME OS_INTERFACE; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
}

# ---------------------------------------------------------------- main
STATE=${GROUNDWORK_OPENSTACK_STATE:-$REPO/.state/openstack}
CMD="" PURGE=0 SVC="" GUESTS=0
while (($#)); do
  case $1 in
  --state) (($# >= 2)) || fail 1 "--state needs a directory"; STATE=$2; shift ;;
  --state=*) STATE=${1#--state=} ;;
  --purge) PURGE=1 ;;
  --guests) GUESTS=1 ;;
  -h | --help) usage 0 ;;
  start | stop | status | env | smoke | revive) [[ -z $CMD ]] || fail 1 "one subcommand at a time (got $CMD and $1)"; CMD=$1 ;;
  kill) [[ -z $CMD ]] || fail 1 "one subcommand at a time (got $CMD and $1)"; (($# >= 2)) || fail 1 "kill needs a service: ${FAULT_SERVICES[*]}"; CMD="kill"; SVC=$2; shift ;;
  *) echo "local.sh: error: unknown argument '$1'" >&2; usage 1 ;;
  esac
  shift
done
[[ -n $CMD ]] || usage 1
[[ $PURGE == 0 || $CMD == stop ]] || fail 1 "--purge goes with stop only"
[[ $GUESTS == 0 || $CMD == start ]] || fail 1 "--guests goes with start only (the mode is kept in the state dir)"
[[ $STATE == /* ]] || STATE=$PWD/$STATE
[[ $STATE =~ ^[A-Za-z0-9/._-]+$ ]] || fail 1 "state dir '$STATE' may only hold letters, digits and / . _ -"
STATE=${STATE%/}
[[ $STATE != "" && $STATE != "$REPO" && $STATE != "$HOME" ]] || fail 1 "refusing state dir '$STATE'"
ETC=$STATE/etc LOG=$STATE/log RUN=$STATE/run DATA=$STATE/data
SCHEMAS=${GROUNDWORK_CACHE:-$HOME/.cache/groundwork}/openstack/schemas
# The mode (fake compute hosts, or --guests) is the state dir's: a plain start keeps it, and
# --guests cannot turn a dir made with fake hosts into one with real guests.
MODE=fake
[[ -f $STATE/mode ]] && MODE=$(<"$STATE/mode")
if [[ $CMD == start && $GUESTS == 1 && $MODE != guests ]]; then
  [[ -d $STATE/data/mysql ]] &&
    fail 1 "the local OpenStack in $STATE was made with fake compute hosts; --guests needs another --state (or 'stop --purge' this one first)"
  MODE=guests
fi
set_mode "$MODE"
unset PYTHONPATH PYTHONHOME # Debian's /usr/bin/python3 only; pyenv's must not leak in

case $CMD in
start) do_start ;;
stop) do_stop ;;
kill) do_kill ;;
revive) do_revive ;;
status) do_status ;;
env) do_env ;;
smoke)
  do_status >/dev/null || fail 3 "not every service is up; see 'local.sh status'"
  load_secrets
  "$TOOL/smoke.sh"
  ;;
esac
