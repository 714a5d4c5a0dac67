# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/common.sh - helpers shared by scripts/tcaccel, netns/lab and
# the tests.  Sourced, never run.  Callers have `set -Eeuo pipefail`.

[[ -n "${TCACCEL_COMMON_SH:-}" ]] && return 0
readonly TCACCEL_COMMON_SH=1

TCACCEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly TCACCEL_ROOT
export TCACCEL_ROOT

# The map layout the program shares with us (scripts/mkabi, from maps.h).
# Before the first `make` there is none: the commands that need no program
# (deps, help, doctor) still run; abi_require stops the others.
TCACCEL_ABI=$TCACCEL_ROOT/build/abi.sh
abi_source() {
	[[ -z "${TCACCEL_CFG_FIELDS+set}" && -z "${TCACCEL_ABI_MISSING:-}" ]] || return 0
	if [[ ! -r "$TCACCEL_ABI" ]]; then
		TCACCEL_ABI_MISSING=1
		TCACCEL_CFG_FIELDS=() TCACCEL_MODES=() TCACCEL_MODE_HELP=()
		return 0
	fi
	# shellcheck source=build/abi.sh # generated at build time (make lint makes it)
	source "$TCACCEL_ABI"
}
abi_require() {
	[[ -z "${TCACCEL_ABI_MISSING:-}" ]] || die "$TCACCEL_ABI missing: run 'make' first (or: make deps all)"
}

# Where tcaccel keeps its pins: one directory per network namespace, used as
# TC_BPF_MNT so tc's libbpf pins the maps at <root>/tc/globals/<map>.
: "${TCACCEL_BPFFS:=/sys/fs/bpf}"
: "${TCACCEL_TRACEFS:=/sys/kernel/tracing}"
readonly TCACCEL_PIN_BASE="$TCACCEL_BPFFS/tcaccel"

# What tcaccel calls its things (the program, its maps, its filter); the
# libs use them.
: "${TCACCEL_OBJ:=$TCACCEL_ROOT/build/tcaccel.bpf.o}"
: "${TCACCEL_CONFDIR:=/etc/tcaccel}"
# shellcheck disable=SC2034
readonly TCACCEL_PROG=tcaccel_ingress
# shellcheck disable=SC2034
readonly TCACCEL_CFG_MAP=tcaccel_cfg TCACCEL_STATS_MAP=tcaccel_stats TCACCEL_PEERS_MAP=tcaccel_peers
# Our filter's handle on the clsact ingress hook: with the preference it
# identifies the filter `tc filter replace` replaces in place.
readonly TCACCEL_HANDLE=${TCACCEL_HANDLE:-0x7cac}
# jq programs too long to read inline (scripts/lib/jq/)
TCACCEL_JQ=${BASH_SOURCE[0]%/*}/jq
# shellcheck disable=SC2034
readonly TCACCEL_JQ

log()  { printf '%s\n' "$*" >&2; }
info() { printf 'tcaccel: %s\n' "$*" >&2; }
warn() { printf 'tcaccel: warning: %s\n' "$*" >&2; }
die()  { printf 'tcaccel: error: %s\n' "$*" >&2; exit 1; }

need_root() {
	[[ $EUID -eq 0 ]] || die "must run as root (try: sudo $*)"
}

have() { command -v "$1" >/dev/null 2>&1; }

require_cmd() {
	local c
	for c in "$@"; do
		have "$c" || die "'$c' not found: run 'make deps' (or: scripts/tcaccel deps)"
	done
}

# Mount bpffs at $TCACCEL_BPFFS when it is not mounted (fresh machines).
bpffs_ensure() {
	if [[ "$(stat -f -c %T "$TCACCEL_BPFFS" 2>/dev/null)" != bpf_fs ]]; then
		mkdir -p "$TCACCEL_BPFFS"
		# mode 700: a bare bpffs is world-writable (1777)
		mount -t bpf -o mode=700 bpf "$TCACCEL_BPFFS" ||
			die "cannot mount bpffs on $TCACCEL_BPFFS"
	fi
}

# Mount tracefs at $TCACCEL_TRACEFS when missing.
tracefs_ensure() {
	if [[ ! -e "$TCACCEL_TRACEFS/trace_pipe" ]]; then
		mkdir -p "$TCACCEL_TRACEFS"
		mount -t tracefs tracefs "$TCACCEL_TRACEFS" ||
			die "cannot mount tracefs on $TCACCEL_TRACEFS"
	fi
}

# tcaccel's own runtime directory: the lock, the watchers' pid files.  Root's
# alone (mode 700): no other user can plant a file or a symlink in it.
: "${TCACCEL_RUNDIR:=/run/tcaccel}"

rundir_ensure() {
	local d=$TCACCEL_RUNDIR uid mode
	[[ ! -L "$d" ]] || die "$d is a symbolic link: remove it (rm $d) and run again"
	if [[ ! -d "$d" ]]; then
		(umask 077 && mkdir -p "$d") || die "cannot create $d"
	fi
	read -r uid mode < <(stat -c '%u %a' "$d")
	if [[ "$uid" != 0 ]] || ((8#$mode & 8#077)); then
		die "$d belongs to uid $uid with mode $mode: it must be root's alone (rm -rf $d, then run again)"
	fi
}

# Serialise state changes: two shells running `load` at once must not race
# for stats slots, clsact or pins.  Held until the process exits.  One lock
# per bpffs instance (its device number), since that is what the pins share:
# a test run with its own private bpffs does not wait for the host's.  The
# file is opened for appending (never truncated) inside $TCACCEL_RUNDIR, and
# never through a symlink.
tcaccel_lock() {
	local f=${TCACCEL_LOCK:-}
	if [[ -z "$f" ]]; then
		rundir_ensure
		f=$TCACCEL_RUNDIR/lock.$(stat -c %d "$TCACCEL_BPFFS")
	fi
	[[ ! -L "$f" ]] || die "$f is a symbolic link: tcaccel will not open it (rm $f)"
	exec {TCACCEL_LOCK_FD}>>"$f"
	local wait=${TCACCEL_LOCK_WAIT:-30}
	[[ "$wait" =~ ^[0-9]+$ ]] || die "TCACCEL_LOCK_WAIT=$wait: a number of seconds"
	flock -w "$wait" "$TCACCEL_LOCK_FD" ||
		die "another tcaccel command has held $f for $wait s; is one stuck? (TCACCEL_LOCK_WAIT sets the wait)"
}

# --- names from the command line -----------------------------------------------
#
# Names end up in paths (pins under $TCACCEL_PIN_BASE/ns/NAME, removed with
# rm -rf), in tc batch lines and in jq programs: only plain names pass.

# A network namespace name: a file name in /run/netns, no '/', not '.'/'..'.
is_netns_name() { [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_.+=@-]{0,254}$ ]]; }

# An interface name as the kernel takes it (dev_valid_name: at most 15
# bytes, no '/', ':' or white space, not '.'/'..'), from the characters
# real names use.
is_ifname() { [[ "$1" =~ ^[A-Za-z0-9_.+=@-]{1,15}$ && "$1" != . && "$1" != .. ]]; }

check_netns_name() {
	[[ -z "$1" ]] || is_netns_name "$1" ||
		die "'$1' is not a network namespace name (letters, digits, '_', '.', '-'; no '/')"
}

check_ifname() {
	is_ifname "$1" || die "'$1' is not an interface name (at most 15 of letters, digits, '_', '.', '-', '@', '+', '='; no '/')"
}

# --- network namespaces ------------------------------------------------------

ns_label() { printf '%s' "${1:-(host)}"; }
#
# `ip netns exec` and `tc -n` unshare the mount namespace and remount /sys,
# so pins they make land in a private bpffs nobody else sees.  nsenter
# switches the network namespace only: /sys/fs/bpf stays the host's.

netns_path() { printf '/run/netns/%s' "$1"; }

netns_exists() {
	[[ -n "$1" && -e "$(netns_path "$1")" ]]
}

# check_netns NS: fail unless NS ("" = this one) exists.
check_netns() {
	[[ -z "$1" ]] || netns_exists "$1" ||
		die "network namespace '$1' not found (ip netns list shows the ones that exist)"
}

# in_ns NS CMD...: run CMD in netns NS ("" = the current one).
in_ns() {
	local ns=$1
	shift
	if [[ -n "$ns" ]]; then
		nsenter --net="$(netns_path "$ns")" -- "$@"
	else
		"$@"
	fi
}

# The bpffs directory tcaccel uses as TC_BPF_MNT for netns NS.
pin_root() {
	check_netns_name "$1"
	if [[ -n "$1" ]]; then
		printf '%s/ns/%s' "$TCACCEL_PIN_BASE" "$1"
	else
		printf '%s/host' "$TCACCEL_PIN_BASE"
	fi
}

pin_dir() { printf '%s/tc/globals' "$(pin_root "$1")"; }

# ifindex of DEV in NS, or fail.
dev_ifindex() {
	in_ns "$1" ip -j link show dev "$2" 2>/dev/null | jq -er '.[0].ifindex'
}

# --- bytes for bpftool --------------------------------------------------------

# le32 VAR N: the little-endian bytes of the u32 N as bpftool "hex"
# arguments ("2a 00 00 00"), into variable VAR (no subshell: for loops).
le32() {
	printf -v "$1" '%02x %02x %02x %02x' $(($2 & 255)) $((($2 >> 8) & 255)) \
		$((($2 >> 16) & 255)) $((($2 >> 24) & 255))
}

# u32_hex N: the same on stdout.
u32_hex() {
	local h
	le32 h "$1"
	printf '%s' "$h"
}

# zero_hex N: N zero bytes.
zero_hex() {
	local i
	local -a zeros=()
	for ((i = 0; i < $1; i++)); do zeros+=(00); done
	printf '%s' "${zeros[*]}"
}

# --- polling (not sleeping) ---------------------------------------------------

# wait_until TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds, for
# TIMEOUT_S whole seconds (timed in microseconds: $SECONDS ticks whole
# seconds, which made `wait_until 2` last anything from 1 to 2 s).
wait_until() {
	local now=${EPOCHREALTIME//[!0-9]/}
	local deadline=$((now + 10#$1 * 1000000))
	shift
	until "$@"; do
		now=${EPOCHREALTIME//[!0-9]/}
		((now < deadline)) || return 1
		sleep 0.05
	done
}
