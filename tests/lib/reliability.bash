# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/lib/reliability.bash - helpers for the hostile-input and fault tests
# (50-matrix, 60-fuzz, 70-faults).  Loaded after helpers.bash.

MATRIX=$ROOT/tests/lib/matrix.py
FUZZ=$ROOT/tests/lib/fuzz.py
TRAFFIC=$ROOT/tests/lib/traffic.py
export MATRIX FUZZ TRAFFIC

# lab_lib FUNCTION ARGS...: one of netns/lib.sh's building blocks (veth,
# addr, neigh, link_neigh), in a subshell: sourcing it here would give LAB a
# default before lab_up picks a name.
lab_lib() {
	(
		# shellcheck source=netns/lib.sh
		source "$ROOT/netns/lib.sh"
		"$@"
	)
}

# lab_quiet NS...: no IPv6 router solicitations from these namespaces' eth0.
# A host keeps soliciting (4 s, 8 s, 16 s, ...) and each one is a multicast
# frame on the router's ingress: a counter moving that no test sent.
lab_quiet() {
	local ns
	for ns in "$@"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.eth0.router_solicitations=0 \
			net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
	done
}

# lab_special_routes NS: routes whose FIB answer is not SUCCESS, and routes
# with a locked MTU, in the router lab, where tests/matrix.txt and
# tests/lib/fuzz.py expect them.
lab_special_routes() {
	local ns=$1
	in_ns "$ns" ip route add blackhole 198.18.50.0/24
	in_ns "$ns" ip route add unreachable 198.18.51.0/24
	in_ns "$ns" ip route add prohibit 198.18.52.0/24
	in_ns "$ns" ip -6 route add blackhole 2001:2:0:50::/64
	in_ns "$ns" ip -6 route add unreachable 2001:2:0:51::/64
	in_ns "$ns" ip -6 route add prohibit 2001:2:0:52::/64
	# behind the server, with a locked route MTU of 1300
	in_ns "$ns" ip route add 198.18.61.0/24 via "$SERVER_IP4" mtu lock 1300
	in_ns "$ns" ip -6 route add 2001:2:0:61::/64 via "$SERVER_IP6" mtu lock 1300
}

# lab_hostile: the router lab as tests/matrix.txt and tests/lib/fuzz.py
# expect it: no router solicitations, the routes of lab_special_routes, and
# to-server checking the reverse path strictly (to-client not at all).
lab_hostile() {
	lab_quiet "$NS_CLIENT" "$NS_SERVER"
	lab_special_routes "$NS_ROUTER"
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_SERVER.rp_filter=1"
}

# fuzz_lab_load [LOAD ARGS...]: tcaccel on both router interfaces as the
# fuzzer's model expects them: to-client in MODE=auto (the default: PEER
# towards the veths), to-server in MODE=redirect, so one run checks both
# (the model knows every mode: 60-fuzz.bats runs NEIGH too).
fuzz_lab_load() {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode auto "$@" 2>/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode redirect "$@" 2>/dev/null
}

# run_matrix CATEGORIES: the cases of tests/matrix.txt in those categories
# (comma-separated), in the kernel, against the router lab's program.
run_matrix() {
	run "$MATRIX" --netns "$NS_ROUTER" --prog "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" \
		--pins "$(pin_dir "$NS_ROUTER")" --reasons "$ROOT/build/tcaccel.reasons" \
		--iface "client=$RT_IF_CLIENT" --iface "server=$RT_IF_SERVER" --iface lo=lo \
		--neigh "client=$CLIENT_MAC" --neigh "server=$SERVER_MAC" \
		--only "$1" "$ROOT/tests/matrix.txt"
	echo "$output"
	assert_success
	assert_output --regexp "matrix: [1-9][0-9]* cases, 0 failed"
}

# raw_send NS FRAME COUNT [IFACE]: send FRAME (a file) COUNT times from an
# AF_PACKET socket on IFACE (default eth0) in NS: nothing in the sender's
# stack checks or fixes it.
raw_send() {
	in_ns "$1" "$TRAFFIC" raw-send "${4:-eth0}" "$2" "$3"
}

# --- bounded traffic while a fault happens -----------------------------------------

# traffic_start SRC_NS DST DST_NS: in the background, from SRC_NS to DST (an
# address of DST_NS): a TCP stream paced at 2 MB/s, checksummed at both
# ends, and a ping every 5 ms.  Both stop at traffic_stop, or by themselves
# after 120 s.
traffic_start() {
	local src=$1 dst=$2 dstns=$3
	TDIR=$BATS_TEST_TMPDIR/traffic.$RANDOM
	mkdir -p "$TDIR"
	bg "$dstns" "$TDIR/recv" "$TRAFFIC" tcp-recv 5301 120
	TRAFFIC_PIDS=("$BG_PID")
	wait_listen "$dstns" 5301
	bg "$src" "$TDIR/sent" "$TRAFFIC" tcp-send "$dst" 5301 2000000 120
	TRAFFIC_PIDS+=("$BG_PID")
	bg "$src" "$TDIR/ping" ping -q -i 0.005 -W 1 -w 120 "$dst"
	TRAFFIC_PIDS+=("$BG_PID")
	export TDIR
}

# traffic_stop: stop the stream and the ping, wait for the receiver; sets
# PING_SENT, PING_LOST, TCP_SENT ("bytes sha256") and TCP_GOT.
traffic_stop() {
	kill -INT "${TRAFFIC_PIDS[1]}" "${TRAFFIC_PIDS[2]}" 2>/dev/null || true
	local p
	for p in "${TRAFFIC_PIDS[@]}"; do
		wait "$p" || true
	done
	local got max
	read -r PING_SENT got < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$TDIR/ping")
	PING_LOST=$((PING_SENT - got))
	# ping stops at once on SIGINT: the requests of its last round trip
	# (one every 5 ms) are still in flight and count as lost.
	max=$(sed -n 's|^rtt .* = [0-9.]*/[0-9.]*/\([0-9]*\).*|\1|p' "$TDIR/ping")
	PING_INFLIGHT=$((1 + ${max:-0} / 5))
	TCP_SENT=$(cat "$TDIR/sent")
	TCP_GOT=$(cat "$TDIR/recv")
	export PING_SENT PING_LOST PING_INFLIGHT TCP_SENT TCP_GOT
}

# assert_traffic_ok MAXLOST: the stream arrived whole and unchanged, at
# most MAXLOST pings (the ones in flight at the fault) went unanswered,
# besides those still in flight when traffic_stop stopped the ping.
assert_traffic_ok() {
	[[ "$TCP_SENT" =~ ^[1-9][0-9]*\ [0-9a-f]{64}$ ]] || fail "TCP sender reported '$TCP_SENT'"
	assert_equal "TCP received: $TCP_GOT" "TCP received: $TCP_SENT"
	((PING_SENT > 0)) || fail "no pings sent"
	((PING_LOST <= $1 + PING_INFLIGHT)) ||
		fail "$PING_LOST of $PING_SENT pings lost (allowed: $1 at the fault, $PING_INFLIGHT in flight at the end)"
}

# FAST: the reasons of the fast path, for reason_packets
FAST=REDIRECT+PEER+NEIGH+NAT_REDIRECT+NAT_PEER+NAT_NEIGH
export FAST

# reason_packets NS REASON[+REASON...] [IFACE]: packets counted under those
# reasons on IFACE (default: all configured interfaces of NS), summed over
# CPUs, straight from the pinned maps: quicker than `status`, for polling.
reason_packets() {
	local ns=$1 idx dir slots slot r
	idx=$(for r in ${2//+/ }; do reason_index "$r"; done | jq -sc .)
	dir=$(pin_dir "$ns")
	[[ -e "$dir/tcaccel_cfg" ]] || { echo 0; return 0; }
	if [[ -n "${3:-}" ]]; then
		slots=$(iface_slot "$ns" "$3")
	else
		slots=$(bpftool -j map dump pinned "$dir/tcaccel_cfg" | jq -r '.[].formatted.value.slot')
	fi
	for slot in $slots; do
		# shellcheck disable=SC2046 # the key's bytes as words
		bpftool -j map lookup pinned "$dir/tcaccel_stats" key hex $(u32_hex "$slot")
	done | jq -s --argjson i "$idx" '[.[].formatted.values[].value.packets[$i[]]] | add // 0'
}

# moved_by N CMD...: poll until CMD's number is N more than when called.
moved_by() {
	local n=$1 start
	shift
	start=$("$@")
	wait_until 30 _moved_at_least "$((start + n))" "$@"
}
_moved_at_least() {
	local want=$1
	shift
	(($("$@") >= want))
}
