# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/helpers.bash - shared by every tests/*.bats file.
#
# Each file builds its own lab under a random LAB name in setup_file and
# removes it in teardown_file; tests/run wraps the whole suite in private
# network and mount namespaces, so nothing can reach this machine's uplink.

bats_load_library bats-support
bats_load_library bats-assert

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TCACCEL=$ROOT/scripts/tcaccel
PKT=$ROOT/tests/lib/pkt.py
export ROOT TCACCEL PKT

# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# --- labs --------------------------------------------------------------------

# lab_up TOPO: a fresh lab of TOPO named $LAB (random unless set); its names
# and addresses (`netns/TOPO env`) become exported variables.
lab_up() {
	: "${LAB:=$(printf 't%04x' "$RANDOM")}"
	export LAB
	"$ROOT/netns/$1" up >/dev/null
	local k v
	while IFS='=' read -r k v; do
		[[ "$k" =~ ^[A-Z][A-Z0-9_]*$ ]] && declare -gx "$k=$v"
	done < <("$ROOT/netns/$1" env)
}

# lab_ns ROLE: the namespace of ROLE in this file's lab (router, c1, ...).
lab_ns() { printf '%s-%s' "$LAB" "$1"; }

lab_down() {
	[[ -n "${LAB:-}" ]] && "$ROOT/netns/lab" down --name "$LAB" >/dev/null 2>&1
	return 0
}

# --- reading state -------------------------------------------------------------

# counter NS IFACE REASON: packets tcaccel counted for REASON on IFACE,
# straight from the pinned maps (two bpftool reads: `status` costs a second
# here and ten under TCG, and is tested on its own in 10-cli, 57-metrics).
# 0 when IFACE has no config entry.
counter() {
	reasons_packets "$1" "$2" "$3"
}

# reasons_packets NS IFACE REASON...: the sum of those reasons' packets on
# IFACE (0 when IFACE has no config entry).
reasons_packets() {
	local ns=$1 dev=$2 slot
	shift 2
	slot=$(iface_slot "$ns" "$dev" 2>/dev/null) || true
	if [[ -z "$slot" || "$slot" == null ]]; then
		echo 0
		return 0
	fi
	slot_reasons "$ns" "$slot" "$@"
}

# slot_reasons NS SLOT REASON...: the sum of those reasons' packets in the
# stats SLOT, summed over CPUs.
slot_reasons() {
	local ns=$1 slot=$2 r
	local -a ridx=()
	shift 2
	for r in "$@"; do ridx+=("$(reason_index "$r")"); done
	# shellcheck disable=SC2046
	bpftool -j map lookup pinned "$(pin_dir "$ns")/tcaccel_stats" key hex $(u32_hex "$slot") |
		jq -r --argjson i "[$(IFS=,; echo "${ridx[*]}")]" \
			'[.formatted.values[].value.packets] | transpose as $t | [$i[] | $t[.] | add] | add // 0'
}

# ns_fwd NS: datagrams the kernel forwarded in NS, IPv4 and IPv6.
ns_fwd() {
	echo $(($(snmp "$1" IpForwDatagrams) + $(snmp "$1" Ip6OutForwDatagrams)))
}

# reason_index REASON: the counter index of REASON (build/tcaccel.reasons).
reason_index() {
	awk -F'\t' -v r="$1" '$2 == r { print $1; f = 1 } END { exit !f }' "$ROOT/build/tcaccel.reasons" ||
		{ echo "unknown reason $1" >&2; return 1; }
}

# iface_slot NS IFACE: the stats slot `load` gave IFACE.
iface_slot() {
	# shellcheck disable=SC2046
	bpftool -j map lookup pinned "$(pin_dir "$1")/tcaccel_cfg" key hex $(u32_hex "$(ifindex "$1" "$2")") |
		jq -r .formatted.value.slot
}

# slot_packets NS SLOT: packets per reason index in SLOT, summed over CPUs,
# straight from the pinned map (the status pipeline is tested on its own).
slot_packets() {
	# shellcheck disable=SC2046
	bpftool -j map lookup pinned "$(pin_dir "$1")/tcaccel_stats" key hex $(u32_hex "$2") |
		jq -r '[.formatted.values[].value.packets] | transpose | map(add) | join(" ")'
}

# forwarded NS IFACE: packets the fast path forwarded from IFACE, whichever
# way (REDIRECT, PEER, NEIGH, and their NATed twins NAT_REDIRECT, ...).
forwarded() {
	reasons_packets "$1" "$2" REDIRECT PEER NEIGH NAT_REDIRECT NAT_PEER NAT_NEIGH
}

# unconfigured_counter NS REASON: slot 0, interfaces without a config entry.
unconfigured_counter() {
	"$TCACCEL" status --netns "$1" --format json |
		jq -r --arg r "$2" '(map(select(.slot == 0)) | .[0].counters[$r].packets) // 0'
}

# snmp NS NAME: a kernel SNMP counter (IpForwDatagrams, Ip6OutForwDatagrams).
snmp() {
	in_ns "$1" nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2 }'
}

ifindex() { dev_ifindex "$1" "$2"; }

our_prog() {
	in_ns "$1" tc -j filter show dev "$2" ingress |
		jq -r '.[] | select(.options.prog.name == "tcaccel_ingress") | .options.prog.id'
}

# ensure_loaded NS DEV...: load tcaccel (default settings) on those DEVs of
# NS that do not carry it.  `load` costs a second or more, so suites that
# start every test loaded pay it only after a test took it away.
ensure_loaded() {
	local ns=$1 dev
	shift
	for dev in "$@"; do
		[[ -n "$(our_prog "$ns" "$dev")" ]] || "$TCACCEL" load "$dev" --netns "$ns" 2>/dev/null
	done
}

# filters NS DEV [ingress|egress]: number of filters (preferences) on the hook.
filters() {
	in_ns "$1" tc -j filter show dev "$2" "${3:-ingress}" | jq '[.[].pref] | unique | length'
}

has_clsact() {
	in_ns "$1" tc -j qdisc show dev "$2" | jq -e 'any(.[]; .kind == "clsact")' >/dev/null
}

# --- in-kernel runs ------------------------------------------------------------

# Verdicts as `bpftool prog run` prints them (unsigned): every pass is
# TC_ACT_UNSPEC (-1: "no opinion", the next filter on the hook runs).
# shellcheck disable=SC2034 # the test files use them
TC_ACT_UNSPEC=4294967295 TC_ACT_REDIRECT=7

# prog_run NS IFACE IN OUT [CTX_IFINDEX]: run the program attached to IFACE
# on frame IN with BPF_PROG_TEST_RUN inside NS (so bpf_fib_lookup sees NS's
# FIB); the packet "arrives" on CTX_IFINDEX (default IFACE).  Prints the
# verdict ($TC_ACT_UNSPEC or $TC_ACT_REDIRECT).
prog_run() {
	local ns=$1 dev=$2 fin=$3 fout=$4 idx=${5:-} id ctx res
	id=$(our_prog "$ns" "$dev")
	[[ -n "$id" ]] || { echo "no tcaccel program on $dev" >&2; return 1; }
	[[ -n "$idx" ]] || idx=$(ifindex "$ns" "$dev")
	ctx="$BATS_TEST_TMPDIR/ctx.$idx"
	"$PKT" ctx "$idx" >"$ctx"
	res=$(in_ns "$ns" bpftool prog run id "$id" data_in "$fin" data_out "$fout" ctx_in "$ctx") || return 1
	sed -n 's/^Return value: \([0-9-]*\),.*/\1/p' <<<"$res"
}

# --- traffic -------------------------------------------------------------------

# flood NS DST COUNT: COUNT pings at 1 ms intervals, bounded by a timeout.
flood() {
	timeout 60 nsenter --net="$(netns_path "$1")" -- \
		ping -q -c "$3" -i 0.001 -W 1 "$2" >/dev/null
}

# bg NS LOGFILE CMD...: start CMD in NS in the background; the pid goes to
# BG_PID (for the caller).  Lab teardown kills whatever still runs in the
# namespace.
bg() {
	local ns=$1 logf=$2
	shift 2
	: >"$logf" # now, not when the background job gets to it
	nsenter --net="$(netns_path "$ns")" -- "$@" >"$logf" 2>&1 &
	export BG_PID=$!
}

# udp_count_start NS PORT: a receiver on PORT in NS (traffic.py udp-count)
# until udp_count_stop; returns once it listens.
udp_count_start() {
	UDP_COUNT_LOG=$BATS_TEST_TMPDIR/udp-count.$2
	bg "$1" "$UDP_COUNT_LOG" timeout 120 "$ROOT/tests/lib/traffic.py" udp-count "$2"
	UDP_COUNT_PID=$BG_PID
	wait_listen "$1" "$2" udp
}

# udp_count_got: how many datagrams the receiver has printed so far.
udp_count_got() { grep -c '^[0-9]' "$UDP_COUNT_LOG" || true; }
# udp_count_moved N: it has printed other than N (reaching EXPECT is a move).
udp_count_moved() { [[ "$(udp_count_got)" != "$1" ]]; }

# udp_count_stop VAR [EXPECT]: once EXPECT datagrams came, or 2 s passed
# with none new (what is still in flight after the sender finished arrives
# in microseconds, or never; a busy guest's receiver that lags still shows
# progress), stop the receiver; VAR = how many it got.
udp_count_stop() {
	local want=${2:-1000000} n=-1 m
	while m=$(udp_count_got); ((m < want && m != n)); do
		n=$m
		wait_until 2 udp_count_moved "$n" || true
	done
	kill -TERM "$UDP_COUNT_PID" 2>/dev/null || true
	wait "$UDP_COUNT_PID" 2>/dev/null || true
	printf -v "$1" '%s' "$(awk '$1 == "total" { print $2 }' "$UDP_COUNT_LOG")"
	[[ -n "${!1}" ]] || { cat "$UDP_COUNT_LOG" >&2; return 1; }
}

# watch_start NS: `tcaccel watch --netns NS` in the background until
# watch_stop (teardown calls it); returns once it watches.
watch_start() {
	"$TCACCEL" watch --netns "$1" >"$BATS_TEST_TMPDIR/watch.log" 2>&1 &
	WATCH_PID=$!
	wait_until 60 grep -q "watching netns" "$BATS_TEST_TMPDIR/watch.log"
}

watch_stop() {
	[[ -n "${WATCH_PID:-}" ]] || return 0
	kill "$WATCH_PID" 2>/dev/null || true
	wait "$WATCH_PID" 2>/dev/null || true
	WATCH_PID=""
}

# wait_listen NS PORT [tcp|udp]: poll until something listens on PORT.
# 30 s: returns as soon as it listens (a python3 receiver starts in 0.1 s
# here, in over 5 s in a TCG guest busy with the test: make vmtest).
wait_listen() {
	local flag=-tln
	[[ "${3:-tcp}" == udp ]] && flag=-uln
	wait_until 30 bash -c "nsenter --net='$(netns_path "$1")' -- ss -H $flag 'sport = :$2' | grep -q ."
}

# --- what a device transmits ------------------------------------------------------
#
# A packet socket sees a packet in the device's own transmit
# (dev_queue_xmit_nit()), which bpf_redirect_peer() skips: a capture of
# what DEV sends that matches the flow under test is a path checker that
# counts only that flow.  (A device's TX counter also counts what the
# kernel sends on its own meanwhile: MLD reports after an address was
# added, say.)  The count is the kernel's own ("packets received by
# filter": every packet the socket's filter accepted, read or not), with
# the direction in the filter itself ("outbound"), so it does not depend
# on how far tcpdump got in reading them.

# tap_start NS DEV FILTER: count what DEV in NS transmits and matches the
# pcap FILTER, until tap_stop; returns once the capture is listening.
tap_start() {
	TAP_LOG=$BATS_TEST_TMPDIR/tap.$2.log
	bg "$1" "$TAP_LOG" tcpdump -n -i "$2" -w /dev/null "outbound and ($3)"
	TAP_PID=$BG_PID
	wait_until 30 grep -q "listening on" "$TAP_LOG"
}

# tap_stop VAR: stop the capture tap_start began; VAR = the packets it counted.
tap_stop() {
	kill -INT "$TAP_PID" 2>/dev/null || true
	wait "$TAP_PID" 2>/dev/null || true
	printf -v "$1" '%s' "$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$TAP_LOG")"
	[[ -n "${!1}" ]] || { cat "$TAP_LOG" >&2; return 1; }
}

# pcap filters for tap_start
export ECHO_REQUESTS='icmp[icmptype] == icmp-echo or (icmp6 and ip6[40] == 128)'
