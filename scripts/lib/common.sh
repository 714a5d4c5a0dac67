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

# Where tcaccel keeps its pins: one directory per network namespace, used as
# TC_BPF_MNT so tc's libbpf pins the maps at <root>/tc/globals/<map>.
: "${TCACCEL_BPFFS:=/sys/fs/bpf}"
: "${TCACCEL_TRACEFS:=/sys/kernel/tracing}"
readonly TCACCEL_PIN_BASE="$TCACCEL_BPFFS/tcaccel"

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

# Serialise state changes: two shells running `load` at once must not race
# for stats slots, clsact or pins.  Held until the process exits.  One lock
# per bpffs instance (its device number), since that is what the pins share:
# a test run with its own private bpffs does not wait for the host's.
tcaccel_lock() {
	local f=${TCACCEL_LOCK:-/run/lock/tcaccel.$(stat -c %d "$TCACCEL_BPFFS").lock}
	mkdir -p "${f%/*}"
	exec {TCACCEL_LOCK_FD}>"$f"
	flock -w 30 "$TCACCEL_LOCK_FD" ||
		die "another tcaccel command has held $f for 30 s; is one stuck?"
}

# --- network namespaces ------------------------------------------------------
#
# `ip netns exec` and `tc -n` unshare the mount namespace and remount /sys,
# so pins they make land in a private bpffs nobody else sees.  nsenter
# switches the network namespace only: /sys/fs/bpf stays the host's.

netns_path() { printf '/run/netns/%s' "$1"; }

netns_exists() {
	[[ -n "$1" && -e "$(netns_path "$1")" ]]
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

# u32_hex N: little-endian bytes of a u32 as bpftool "hex" arguments.
u32_hex() {
	local n=$1
	printf '%02x %02x %02x %02x' $((n & 255)) $(((n >> 8) & 255)) \
		$(((n >> 16) & 255)) $(((n >> 24) & 255))
}

# le32 VAR N: like u32_hex, into variable VAR (no subshell: for loops).
le32() {
	printf -v "$1" '%02x %02x %02x %02x' $(($2 & 255)) $((($2 >> 8) & 255)) \
		$((($2 >> 16) & 255)) $((($2 >> 24) & 255))
}

# zero_hex N: N zero bytes.
zero_hex() {
	local i out=()
	for ((i = 0; i < $1; i++)); do out+=(00); done
	printf '%s' "${out[*]}"
}

# --- polling (not sleeping) ---------------------------------------------------

# wait_until TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}
