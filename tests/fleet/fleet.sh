#!/usr/bin/env bash
# A fleet of SSH hosts on one Linux machine, without containers, for multi-host tests.
#
# Each host i is its own network namespace joined to the machine by a veth pair on a link-local /30
# (machine side $FLEET_NET.(4i-3), host side $FLEET_NET.(4i-2)), with its own mount, pid and uts
# namespaces, a copy-on-write view of the whole root filesystem (overlayfs, lowerdir=/, upperdir
# under $FLEET_BASE/h<i>/upper, so nothing is written to the real /), its own users under /Users, its
# own host key and its own sshd. Nothing is sent off the machine.
#
# Usage: fleet.sh up N            bring up hosts 1..N (tears down leftovers of the same fleet first)
#        fleet.sh down [N]        tear down every host of this fleet (idempotent; also half-created hosts)
#        fleet.sh status          one line per host; rc 1 when a host is not serving SSH
#        fleet.sh exec I CMD...   run CMD as root inside host I (nsenter; works while its sshd is down)
#        fleet.sh ssh I CMD...    run CMD as root on host I over SSH
#        fleet.sh stop-sshd I     kill every sshd process of host I (listener and open sessions)
#        fleet.sh start-sshd I    start host I's sshd again and wait until it listens
#        fleet.sh link-down I     take host I's link down (connections time out instead of being refused)
#        fleet.sh link-up I       bring it back
#
# Environment:
#   FLEET_PREFIX         host and network namespace names: <prefix><i>              (fleet-h)
#   FLEET_NET            first three octets of the 169.254.x.0/24 the fleet uses   (169.254.77)
#   FLEET_BASE           state directory                                           (${TMPDIR:-/tmp}/aiohub-fleet-<prefix>)
#   FLEET_USERS          users created on every host, home /Users/<user>           (alice bob)
#   FLEET_GROUP          inventory group of the hosts (also a child of cowork_hosts) (fleet)
#   FLEET_COUNT_MODULES  1: the inventory's interpreter logs every module execution (module name, no
#                        arguments) to /var/log/fleet-modules.log on the host      (0)
#   FLEET_TIMEOUT        seconds to wait for the hosts' sshd                       (30)
#
# Written to $FLEET_BASE: inventory.ini, inventory.yml, ssh_config (for ssh -F and testinfra's ssh://
# backend), known_hosts, id_ed25519 (client key), fleet.json (hosts, addresses, paths), h<i>/ (host
# state: upper/ is the host's whole private filesystem, readable from outside but not to be changed
# while the host runs; sshd logs to /var/log/fleet-sshd.log there). Each host's /root is a fresh one
# (the machine's root home is hidden) and its only users with uid >= 1000 are FLEET_USERS.
#
# One fleet per /24: `up` holds /run/lock/aiohub-fleet-<net>.lock for the fleet's lifetime (the hosts'
# processes keep it open) and exits with 75 when another fleet, or any interface, uses the /24.
# FLEET_DEBUG=1 prints the time each phase of `up` took. Python wrapper: tests/support/fleet.py.
#
# Needs root, iproute2, util-linux (unshare, nsenter, setsid) and openssh-server + openssh-client:
#   apt-get install -y --no-install-recommends openssh-server openssh-client iproute2
set -euo pipefail
shopt -s nullglob

PREFIX=${FLEET_PREFIX:-fleet-h}
NET=${FLEET_NET:-169.254.77}
BASE=${FLEET_BASE:-${TMPDIR:-/tmp}/aiohub-fleet-$PREFIX}
USERS=${FLEET_USERS:-alice bob}
GROUP=${FLEET_GROUP:-fleet}
COUNT_MODULES=${FLEET_COUNT_MODULES:-0}
TIMEOUT=${FLEET_TIMEOUT:-30}
MAX_HOSTS=63
SSHD_CONFIG=/etc/ssh/sshd_config_fleet
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { printf 'fleet.sh: %s\n' "$*" >&2; exit 1; }
note() { printf 'fleet.sh: %s\n' "$*" >&2; }
debug() { [ -z "${FLEET_DEBUG:-}" ] || note "$(($(now_ms) - START_MS)) ms: $*"; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# -- names and addresses ---------------------------------------------------------------------------

validate() {
  [[ $PREFIX =~ ^[a-z][a-z0-9-]{0,19}$ ]] \
    || die "FLEET_PREFIX='$PREFIX': use 1-20 characters a-z, 0-9, '-', starting with a letter"
  [[ $NET =~ ^169\.254\.([0-9]{1,3})$ ]] \
    || die "FLEET_NET='$NET': give the first three octets of a link-local /24, e.g. 169.254.77"
  local octet=${BASH_REMATCH[1]}
  ((octet >= 1 && octet <= 254 && octet != 169)) \
    || die "FLEET_NET='$NET': the third octet must be 1-254 and not 169 (169.254.169.254 is the cloud metadata address)"
  [[ $BASE = /* ]] || die "FLEET_BASE='$BASE' must be an absolute path"
  [[ $GROUP =~ ^[a-z_][a-z0-9_]*$ ]] || die "FLEET_GROUP='$GROUP': use a-z, 0-9 and '_'"
  local u
  for u in $USERS; do
    [[ $u =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "FLEET_USERS: '$u' is not a valid user name"
  done
}

host_name() { echo "$PREFIX$1"; }
host_dir() { echo "$BASE/h$1"; }
host_addr() { echo "$NET.$((4 * $1 - 2))"; }
gateway_addr() { echo "$NET.$((4 * $1 - 3))"; }

# Machine-side veth name, unique per prefix and at most 15 characters (IFNAMSIZ - 1).
VETH_STEM=v$PREFIX
if ((${#VETH_STEM} > 12)); then
  VETH_STEM=v${PREFIX:0:7}$(printf '%s' "$PREFIX" | cksum | cut -c1-4)
fi
veth_name() { echo "$VETH_STEM$1"; }

# ssh control sockets: under FLEET_BASE when the path fits in a unix socket address (108 bytes,
# ssh adds a 17-character suffix while creating it), else in a short directory under /tmp.
control_dir() {
  local dir=$BASE/cp
  if ((${#dir} + 1 + 15 + 5 + 17 >= 104)); then
    dir=/tmp/fleet-cp-$(printf '%s' "$BASE" | cksum | cut -d' ' -f1)
  fi
  echo "$dir"
}

require_tools() {
  (($(id -u) == 0)) || die "must run as root (network namespaces, overlay mounts)"
  local tool
  for tool in ip unshare nsenter setsid ssh ssh-keygen /usr/sbin/sshd; do
    command -v "$tool" >/dev/null \
      || die "'$tool' not found; install it: apt-get install -y --no-install-recommends openssh-server openssh-client iproute2 util-linux"
  done
}

index_arg() {
  if ! [[ ${1:-} =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > MAX_HOSTS)); then
    die "expected a host index 1-$MAX_HOSTS, got '${1:-}'"
  fi
  echo "$1"
}

init_pid() {
  # PID 1 of host i's pid namespace, as seen from the machine; fails when the host is not running.
  local file pid
  file=$(host_dir "$1")/init.pid
  [ -s "$file" ] || return 1
  pid=$(<"$file")
  [ -d "/proc/$pid" ] && [ "$(ip netns identify "$pid" 2>/dev/null)" = "$(host_name "$1")" ] || return 1
  echo "$pid"
}

# -- bring-up --------------------------------------------------------------------------------------

sshd_extra_options() {
  # Newer OpenSSH (9.8+) penalises sources with failed connections; tests kill sshd on purpose.
  local key=$1 out
  out=$(/usr/sbin/sshd -t -f /dev/null -h "$key" -o PerSourcePenalties=no 2>&1 || true)
  case $out in
    *"Bad configuration option"*) ;;
    *) echo "PerSourcePenalties no" ;;
  esac
}

# What every host of the fleet gets on top of the machine's /, staged once and copied into each upper
# directory: a clean /root (opaque: the machine's root home and its dotfiles are hidden) and the
# fleet's scripts. (A shared lower layer would be nicer, but overlayfs refuses a lower layer that lies
# inside another one, and / is one.)
prepare_layer() {
  local layer=$BASE/layer
  rm -rf "$layer"
  install -d -m 0755 "$layer/usr/local/bin" "$layer/usr/local/sbin"
  install -d -m 0700 "$layer/root" "$layer/root/.ssh"
  cp /etc/skel/.bashrc /etc/skel/.profile "$layer/root/" 2>/dev/null || true
  install -m 0600 "$BASE/id_ed25519.pub" "$layer/root/.ssh/authorized_keys"
  /usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$layer/root"
  install -m 0755 /dev/stdin "$layer/usr/local/sbin/fleet-setup" <<'EOF'
#!/bin/sh
# First boot of a fleet host (chrooted, in its own namespaces): users, then sshd.
set -e
# Only the fleet users are real users here: drop the machine's own accounts (uid >= 1000).
for other in $(awk -F: '$3 >= 1000 && $3 != 65534 { print $1 }' /etc/passwd); do
  case " $* " in *" $other "*) ;; *) userdel "$other" 2>/dev/null || true ;; esac
done
mkdir -p /Users
for user in "$@"; do
  id "$user" >/dev/null 2>&1 || useradd -m -d "/Users/$user" -s /bin/bash "$user"
done
exec /usr/sbin/sshd -f /etc/ssh/sshd_config_fleet -E /var/log/fleet-sshd.log
EOF
  install -m 0755 /dev/stdin "$layer/usr/local/sbin/fleet-init" <<'EOF'
#!/bin/bash
# PID 1 of a fleet host: keeps its namespaces alive while sshd is stopped and reaps orphans.
trap 'exit 0' TERM INT
cd /
while :; do sleep 86400 & wait $! || true; done
EOF
  install -m 0755 /dev/stdin "$layer/usr/local/bin/fleet-python3" <<'EOF'
#!/usr/bin/python3 -IS
"""Interpreter for Ansible modules on a fleet host that logs each execution (time, module name).

Pipelined modules arrive on stdin: read them, note the module name (never the arguments), then hand
the same bytes to /usr/bin/python3 through a pipe."""
import os
import re
import sys
import time

LOG = "/var/log/fleet-modules.log"
args = sys.argv[1:]
if args:
    with open(args[0], "rb") as script:
        data = None
        head = script.read()
else:
    data = head = sys.stdin.buffer.read()
match = re.search(rb"module_fqn='([^']+)'", head)
name = match.group(1).decode("ascii", "replace") if match else "-"
with open(LOG, "a") as log:
    log.write("%.6f %d %s\n" % (time.time(), os.getpid(), name))
if data is not None:
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.close(read_end)
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view):]
        os._exit(0)
    os.close(write_end)
    os.dup2(read_end, 0)
    os.close(read_end)
os.execv("/usr/bin/python3", ["/usr/bin/python3"] + args)
EOF
}

# Files of one host (its own key, name and sshd configuration), written into its overlay upper
# directory before the overlay is mounted.
prepare_upper() {
  local i=$1 extra=$2 d upper addr
  d=$(host_dir "$i"); upper=$d/upper; addr=$(host_addr "$i")
  cp -a "$BASE/layer/." "$upper/"
  install -d -m 0755 "$upper/etc/ssh" "$upper/var/log"
  ssh-keygen -q -t ed25519 -N '' -C "$(host_name "$i")" -f "$upper/etc/ssh/ssh_host_ed25519_key" </dev/null
  host_name "$i" >"$upper/etc/hostname"
  cat >"$upper$SSHD_CONFIG" <<EOF
# sshd of fleet host $(host_name "$i") (tests/fleet/fleet.sh)
ListenAddress $addr
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
MaxSessions 100
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
$extra
EOF
}

setup_network() {
  local i=$1 ns veth
  ns=$(host_name "$i"); veth=$(veth_name "$i")
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip addr add "$(gateway_addr "$i")/30" dev "$veth"
  ip link set "$veth" up
  ip -n "$ns" addr add "$(host_addr "$i")/30" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}

# Runs in the background: the host's namespaces, overlay root, users and sshd (boot.sh), then its PID 1.
launch_host() {
  local i=$1 d
  d=$(host_dir "$i")
  cat >"$d/boot.sh" <<'EOF'
# Boot of one fleet host, run by fleet.sh in the host's new network, mount, pid and uts namespaces.
set -eu
trap '[ -s "$D/init.pid" ] || touch "$D/failed"' EXIT
# Our pid as the machine sees it, for nsenter (bash reads /proc/self itself, no fork).
while read -r key value _; do
  if [ "$key" = NSpid: ]; then outer=$value; fi
done </proc/self/status
R=$D/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777,size=256m tmpfs "$R/tmp"
mkdir -p "$R/run/sshd"
hostname "$H"
# shellcheck disable=SC2086 # USERS is a list
chroot "$R" /usr/local/sbin/fleet-setup $USERS 9>&-
while [ ! -s "$R/run/sshd.pid" ]; do sleep 0.01; done
echo "$outer" >"$D/init.pid"
exec chroot "$R" /usr/local/sbin/fleet-init
EOF
  setsid ip netns exec "$(host_name "$i")" \
    unshare --mount --pid --uts --fork --propagation private \
    env -i PATH="$HOST_PATH" LANG=C.UTF-8 D="$d" H="$(host_name "$i")" USERS="$USERS" \
    bash "$d/boot.sh" </dev/null >"$d/host.log" 2>&1 &
}

up_one() {
  local i=$1 extra=$2 d
  d=$(host_dir "$i")
  mkdir -p "$d/upper" "$d/work" "$d/root"
  {
    prepare_upper "$i" "$extra"
    setup_network "$i"
    launch_host "$i"
  } 2>>"$d/setup.log"
}

wait_ready() {
  local i=$1 deadline d
  d=$(host_dir "$i")
  deadline=$(($(now_ms) + TIMEOUT * 1000))
  until [ -s "$d/init.pid" ]; do
    if [ -e "$d/failed" ] || (($(now_ms) > deadline)); then
      note "host $(host_name "$i") did not start:"
      cat "$d/setup.log" "$d/host.log" "$d/upper/var/log/fleet-sshd.log" 2>/dev/null | sed 's/^/  /' >&2
      return 1
    fi
    sleep 0.02
  done
}

write_client_files() {
  local n=$1 cp i name addr
  cp=$(control_dir)
  : >"$BASE/known_hosts"
  for i in $(seq 1 "$n"); do
    name=$(host_name "$i"); addr=$(host_addr "$i")
    echo "$name,$addr $(cut -d' ' -f1-2 "$(host_dir "$i")/upper/etc/ssh/ssh_host_ed25519_key.pub")" >>"$BASE/known_hosts"
  done
  {
    echo "# ssh client configuration for fleet $PREFIX on $NET.0/24 (tests/fleet/fleet.sh)"
    echo "# ssh -F $BASE/ssh_config $(host_name 1)    testinfra: --ssh-config=$BASE/ssh_config --hosts=ssh://$(host_name 1)"
    for i in $(seq 1 "$n"); do
      printf 'Host %s\n  HostName %s\n' "$(host_name "$i")" "$(host_addr "$i")"
    done
    cat <<EOF
Host $PREFIX* $NET.*
  User root
  IdentityFile $BASE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $BASE/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 5
  ServerAliveInterval 5
  ServerAliveCountMax 3
  KexAlgorithms curve25519-sha256,sntrup761x25519-sha512@openssh.com
  ControlMaster auto
  ControlPath $cp/%h-%r
  ControlPersist 60s
EOF
  } >"$BASE/ssh_config"

  local interpreter=/usr/bin/python3
  [ "$COUNT_MODULES" = 1 ] && interpreter=/usr/local/bin/fleet-python3
  local ssh_args="-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=$cp/%h-%r"
  {
    echo "# Fleet $PREFIX: $n hosts on $NET.0/24, written by tests/fleet/fleet.sh"
    echo "[$GROUP]"
    for i in $(seq 1 "$n"); do echo "$(host_name "$i") ansible_host=$(host_addr "$i")"; done
    echo
    echo "[cowork_hosts:children]"
    echo "$GROUP"
    echo
    echo "[$GROUP:vars]"
    echo "ansible_connection=ssh"
    echo "ansible_user=root"
    echo "ansible_ssh_private_key_file=$BASE/id_ed25519"
    echo "ansible_ssh_common_args='-F $BASE/ssh_config'"
    echo "ansible_ssh_args='$ssh_args'"
    echo "ansible_ssh_pipelining=true"
    echo "ansible_python_interpreter=$interpreter"
  } >"$BASE/inventory.ini"
  {
    echo "# Fleet $PREFIX: $n hosts on $NET.0/24, written by tests/fleet/fleet.sh"
    echo "all:"
    echo "  children:"
    echo "    cowork_hosts:"
    echo "      children:"
    echo "        $GROUP:"
    echo "    $GROUP:"
    echo "      hosts:"
    for i in $(seq 1 "$n"); do
      echo "        $(host_name "$i"):"
      echo "          ansible_host: $(host_addr "$i")"
    done
    echo "      vars:"
    echo "        ansible_connection: ssh"
    echo "        ansible_user: root"
    echo "        ansible_ssh_private_key_file: $BASE/id_ed25519"
    echo "        ansible_ssh_common_args: -F $BASE/ssh_config"
    echo "        ansible_ssh_args: $ssh_args"
    echo "        ansible_ssh_pipelining: true"
    echo "        ansible_python_interpreter: $interpreter"
  } >"$BASE/inventory.yml"
  {
    printf '{"prefix": "%s", "net": "%s", "base": "%s", "group": "%s", "control_dir": "%s",\n' \
      "$PREFIX" "$NET" "$BASE" "$GROUP" "$cp"
    printf ' "inventory": "%s", "ssh_config": "%s", "python_interpreter": "%s",\n' \
      "$BASE/inventory.ini" "$BASE/ssh_config" "$interpreter"
    # shellcheck disable=SC2086 # USERS is a list
    printf ' "users": [%s],\n' "$(printf '"%s", ' $USERS | sed 's/, $//')"
    printf ' "hosts": ['
    for i in $(seq 1 "$n"); do
      ((i > 1)) && printf ',\n  ' || printf '\n  '
      printf '{"index": %d, "name": "%s", "address": "%s", "gateway": "%s", "interface": "%s", "dir": "%s"}' \
        "$i" "$(host_name "$i")" "$(host_addr "$i")" "$(gateway_addr "$i")" "$(veth_name "$i")" "$(host_dir "$i")"
    done
    printf '\n]}\n'
  } >"$BASE/fleet.json"
}

busy() { printf 'fleet.sh: %s\n' "$*" >&2; exit 75; }

claim_net() {
  # One fleet per /24. The lock is taken on fd 9, which every host process inherits: it is held as
  # long as any host of this fleet lives and released by `down` (or when the hosts die).
  local lock=/run/lock/aiohub-fleet-$NET.lock owner
  [ -d /run/lock ] || lock=/tmp/aiohub-fleet-$NET.lock
  exec 9>>"$lock"
  if ! flock -n 9; then
    owner=$(cat "$lock" 2>/dev/null || true)
    busy "$NET.0/24 is used by another fleet (${owner:-unknown}): choose another FLEET_NET, or tear that fleet down"
  fi
  echo "prefix=$PREFIX base=$BASE pid=$$" >"$lock"
  # Anything else on this machine with an address in the /24 (a fleet made by other means).
  local line ifname address
  while read -r line; do
    # shellcheck disable=SC2086 # split the fields of one line
    set -- $line
    ifname=${2%%@*}; ifname=${ifname%:}; address=${4%/*}
    if [[ $address == "$NET".* ]]; then
      busy "$NET.0/24 is in use on this machine ($ifname has $address): choose another FLEET_NET"
    fi
  done < <(ip -o -4 addr show)
}

check_ssh() {
  local i=$1 name out
  name=$(host_name "$i")
  if ! out=$(ssh -F "$BASE/ssh_config" -o ControlMaster=no -o ControlPath=none "$name" \
      "for u in $USERS; do id -u \$u >/dev/null && test -d /Users/\$u || exit 3; done" 2>&1); then
    note "host $name is up but SSH or its users do not work: $out"
    return 1
  fi
}

cmd_up() {
  local n=${1:-3} i pid failed=0 extra
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_HOSTS)); then
    die "up: give a number of hosts 1-$MAX_HOSTS, got '$n'"
  fi
  require_tools
  cmd_down >/dev/null
  debug "leftovers removed"
  claim_net
  install -d -m 0700 "$BASE" "$(control_dir)"
  [ -f "$BASE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "fleet $PREFIX" -f "$BASE/id_ed25519" </dev/null
  extra=$(sshd_extra_options "$BASE/id_ed25519")
  prepare_layer
  local -a jobs=()
  for i in $(seq 1 "$n"); do
    up_one "$i" "$extra" &
    jobs+=($!)
  done
  for pid in "${jobs[@]}"; do wait "$pid" || failed=1; done
  debug "hosts launched"
  if ((failed == 0)); then
    jobs=()
    for i in $(seq 1 "$n"); do wait_ready "$i" & jobs+=($!); done
    for pid in "${jobs[@]}"; do wait "$pid" || failed=1; done
  fi
  debug "sshd listening everywhere"
  if ((failed == 0)); then
    write_client_files "$n"
    jobs=()
    for i in $(seq 1 "$n"); do check_ssh "$i" & jobs+=($!); done
    for pid in "${jobs[@]}"; do wait "$pid" || failed=1; done
  fi
  debug "ssh checked"
  if ((failed)); then
    for i in $(seq 1 "$n"); do cat "$(host_dir "$i")/setup.log" 2>/dev/null; done | sed 's/^/  /' >&2
    cmd_down >/dev/null
    die "up $n failed; everything was torn down again"
  fi
  note "up: $n host(s) $(host_name 1)..$(host_name "$n") on $NET.0/24 in $(($(now_ms) - START_MS)) ms; inventory $BASE/inventory.ini"
}

# -- tear-down -------------------------------------------------------------------------------------

known_indices() {
  # Every host index of this fleet that left any trace: namespace, veth, state directory.
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^${PREFIX}\([0-9][0-9]*\)\$/\1/p"
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed -n "s/^${VETH_STEM}\([0-9][0-9]*\)@.*/\1/p"
    local d
    for d in "$BASE"/h[0-9]*; do echo "${d##*/h}"; done
  } | sort -un
}

close_masters() {
  local cp sock
  cp=$(control_dir)
  for sock in "$cp"/*; do
    if [ -S "$sock" ]; then ssh -o ControlPath="$sock" -O exit fleet-host >/dev/null 2>&1 || true; fi
  done
}

down_one() {
  local i=$1 ns d pids tries=0
  ns=$(host_name "$i"); d=$(host_dir "$i")
  if [ -e "/run/netns/$ns" ]; then
    # Every process in the host's network namespace is ours: the launcher, the host's PID 1 (killing
    # it kills its whole pid namespace), sshd and sessions, anything run with `exec`.
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    while [ -n "$pids" ] && ((tries < 200)); do
      # shellcheck disable=SC2086 # a list of pids
      # shellcheck disable=SC2086 # a list of pids
    kill -KILL $pids 2>/dev/null || true
      sleep 0.02
      tries=$((tries + 1))
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
    done
    [ -z "$pids" ] || note "down: processes $pids of $ns did not exit"
    ip netns del "$ns" 2>/dev/null || true
  fi
  ip link del "$(veth_name "$i")" 2>/dev/null || true
  if [ -d "$d" ]; then
    if grep -qs " $d/root " /proc/mounts; then umount -l "$d/root" 2>/dev/null || true; fi
    rm -rf "$d"
  fi
}

cmd_down() {
  local i pid
  local -a jobs=()
  close_masters
  for i in $(known_indices); do down_one "$i" & jobs+=($!); done
  for pid in "${jobs[@]}"; do wait "$pid" || true; done
  rm -rf "$(control_dir)" "$BASE/layer"
  rm -f "$BASE"/{inventory.ini,inventory.yml,ssh_config,known_hosts,fleet.json,id_ed25519,id_ed25519.pub}
  rmdir "$BASE" 2>/dev/null || true
  note "down: fleet $PREFIX on $NET.0/24 is gone"
}

# -- operating on one host -------------------------------------------------------------------------

cmd_status() {
  local i pid rc=0 n=0 state
  for i in $(known_indices); do
    n=$((n + 1))
    if pid=$(init_pid "$i"); then
      if [ -n "$(sshd_pids "$i")" ]; then
        state="up (sshd running)"
      else
        state="up (sshd stopped)"; rc=1
      fi
    else
      state="down"; rc=1
    fi
    printf '%s\t%s\t%s\n' "$(host_name "$i")" "$(host_addr "$i")" "$state"
  done
  ((n > 0)) || { echo "no hosts of fleet $PREFIX"; rc=1; }
  return $rc
}

nsenter_host() {
  local i=$1 pid
  shift
  pid=$(init_pid "$i") || die "host $(host_name "$i") is not running"
  nsenter --target "$pid" --mount --uts --net --pid --root --wd -- \
    env -i PATH="$HOST_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

sshd_pids() {
  local ns p
  ns=$(host_name "$1")
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && echo "$p"
  done
  return 0
}

cmd_stop_sshd() {
  local i=$1 pids tries=0
  init_pid "$i" >/dev/null || die "host $(host_name "$i") is not running"
  pids=$(sshd_pids "$i")
  while [ -n "$pids" ] && ((tries < 200)); do
    # shellcheck disable=SC2086 # a list of pids
    kill -KILL $pids 2>/dev/null || true
    sleep 0.01
    tries=$((tries + 1))
    pids=$(sshd_pids "$i")
  done
  nsenter_host "$i" rm -f /run/sshd.pid
}

cmd_start_sshd() {
  local i=$1 deadline
  if [ -n "$(sshd_pids "$i")" ]; then return 0; fi
  nsenter_host "$i" /usr/sbin/sshd -f "$SSHD_CONFIG" -E /var/log/fleet-sshd.log
  deadline=$(($(now_ms) + TIMEOUT * 1000))
  until nsenter_host "$i" test -s /run/sshd.pid; do
    (($(now_ms) < deadline)) || die "sshd of $(host_name "$i") did not start; see $(host_dir "$i")/upper/var/log/fleet-sshd.log"
    sleep 0.02
  done
}

main() {
  local action=${1:-}
  shift || true
  validate
  case $action in
    up) cmd_up "$@" ;;
    down) require_tools; cmd_down ;;
    status) cmd_status ;;
    exec)
      local i; i=$(index_arg "${1:-}"); shift
      (($# > 0)) || die "exec $i: give a command"
      nsenter_host "$i" "$@" ;;
    ssh)
      local i; i=$(index_arg "${1:-}"); shift
      exec ssh -F "$BASE/ssh_config" "$(host_name "$i")" "$@" ;;
    stop-sshd) cmd_stop_sshd "$(index_arg "${1:-}")" ;;
    start-sshd) cmd_start_sshd "$(index_arg "${1:-}")" ;;
    link-down) ip link set "$(veth_name "$(index_arg "${1:-}")")" down ;;
    link-up) ip link set "$(veth_name "$(index_arg "${1:-}")")" up ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

START_MS=$(now_ms)
main "$@"
