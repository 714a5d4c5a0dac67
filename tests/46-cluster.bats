#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The cluster lab (diagram: netns/cluster): two nodes, two pods each, built
# twice, once with a VXLAN overlay and once with native routing.  Pod to pod
# across nodes on the fast path of BOTH nodes, IPv4 and IPv6, both ways,
# proven by each node's own IpForwDatagrams against the same flow without
# tcaccel (GSO: a forwarded datagram is a super-packet, so only the same
# flow compares); the overlay's smaller MTU (PMTU); an underlay link flap
# mid-flow; a pod added after `load all`.

load helpers

setup_file() {
	local base
	base=$(printf 't%04x' "$RANDOM")
	export VX=${base}v NR=${base}n
	LAB=$VX OVERLAY=vxlan "$ROOT/netns/cluster" up >/dev/null
	LAB=$NR OVERLAY=none "$ROOT/netns/cluster" up >/dev/null
	export DATA=$BATS_FILE_TMPDIR/data
	head -c 4M /dev/urandom >"$DATA"
}

teardown_file() {
	local lab
	for lab in "${VX:-}" "${NR:-}"; do
		[[ -n "$lab" ]] && "$ROOT/netns/lab" down --name "$lab" >/dev/null 2>&1
	done
	return 0
}

# Names and addresses (netns/cluster's scheme): node K, pod J of node K.
node() { printf '%s-n%d' "$1" "$2"; }      # LAB K
pod() { printf '%s-n%dp%d' "$1" "$2" "$3"; } # LAB K J
ip4() { printf '198.19.%d.%d' "$1" "$2"; }
ip6() { printf '2001:2:0:c1%02x::%x' "$1" "$2"; }

# snmp0 NS NAME: snmp, 0 for a counter the kernel does not list yet (IcmpMsg*).
snmp0() { local v; v=$(snmp "$1" "$2"); echo "${v:-0}"; }

# load_nodes LAB: tcaccel on every interface of both nodes, unless it is
# there already (a load costs more than a second).
load_nodes() {
	local k
	for k in 1 2; do
		[[ -n "$(our_prog "$(node "$1" "$k")" eth0)" ]] ||
			"$TCACCEL" load all --netns "$(node "$1" "$k")" 2>/dev/null
	done
}
unload_nodes() {
	local k
	for k in 1 2; do
		[[ -z "$(our_prog "$(node "$1" "$k")" eth0)" ]] ||
			"$TCACCEL" unload --all --netns "$(node "$1" "$k")" >/dev/null 2>&1
	done
}

fast() { reasons_packets "$1" "$2" REDIRECT PEER NEIGH; } # NS IFACE

# settled FILE: FILE's size stays the same over 0.3 s.
settled() {
	local a
	a=$(stat -c %s "$1")
	sleep 0.3
	[[ "$(stat -c %s "$1")" == "$a" ]]
}

# xfer SRC_NS DST_NS DST_IP: DATA over TCP from SRC_NS to DST_NS, sha256
# checked; DST_IP v4 or v6 (the listener takes both).
xfer() {
	local src=$1 dst=$2 ip=$3 out=$BATS_TEST_TMPDIR/received
	[[ "$ip" == *:* ]] && ip="[$ip]"
	rm -f "$out"
	bg "$dst" "$BATS_TEST_TMPDIR/listen.log" timeout 30 \
		socat -u TCP6-LISTEN:5001,reuseaddr,ipv6only=0 "OPEN:$out,creat,trunc"
	wait_listen "$dst" 5001
	timeout 30 nsenter --net="$(netns_path "$src")" -- socat -u "OPEN:$DATA" "TCP:$ip:5001"
	wait "$BG_PID"
	[[ "$(sha256sum <"$out")" == "$(sha256sum <"$DATA")" ]] || { echo "data corrupted: $src -> $ip" >&2; return 1; }
}

# flows LAB PHASE: the four flows (pod n1p1 <-> n2p1, IPv4 and IPv6); every
# node's kernel-forwarded count per flow in F_<PHASE>_<flow>_<node>.
flows() {
	local lab=$1 phase=$2 fam dir src dst ip a b k
	a=$(node "$lab" 1) b=$(node "$lab" 2)
	for fam in 4 6; do
		for dir in 12 21; do
			src=$(pod "$lab" "${dir:0:1}" 1) dst=$(pod "$lab" "${dir:1:1}" 1)
			ip=$("ip$fam" "${dir:1:1}" 1)
			local -a f0=("$(ns_fwd "$a")" "$(ns_fwd "$b")")
			xfer "$src" "$dst" "$ip"
			for k in 1 2; do
				printf -v "F_${phase}_${fam}_${dir}_$k" '%s' "$(($(ns_fwd "$(node "$lab" "$k")") - f0[k - 1]))"
			done
		done
	done
}

# fast_path_proof LAB: the flows without tcaccel, then with it on both nodes:
# on each node, for each flow, the kernel forwarded under 10% of what it did.
fast_path_proof() {
	local lab=$1 fam dir k kern fast
	unload_nodes "$lab"
	flows "$lab" kernel
	load_nodes "$lab"
	flows "$lab" fast
	for fam in 4 6; do
		for dir in 12 21; do
			for k in 1 2; do
				kern=F_kernel_${fam}_${dir}_$k fast=F_fast_${fam}_${dir}_$k
				echo "# $lab IPv$fam pod n${dir:0:1}p1 -> n${dir:1:1}p1, node $k: kernel-forwarded ${!fast} with tcaccel, ${!kern} without" >&3
				# (4 MB are at least 64 GSO super-packets and their ACKs)
				((${!kern} >= 50)) || fail "the kernel path forwarded only ${!kern} on node $k: no baseline"
				((${!fast} * 10 < ${!kern})) ||
					fail "node $k forwarded ${!fast} of IPv$fam n${dir:0:1} -> n${dir:1:1} itself (${!kern} without tcaccel)"
			done
		done
	done
}

@test "cluster lab: pod to pod across nodes, both overlays, IPv4 and IPv6, TTL 62; VXLAN on the wire only with the overlay" {
	local lab k ip n cap
	for lab in "$VX" "$NR"; do
		run env LAB="$lab" "$ROOT/netns/cluster" ping
		assert_success
		assert_output --partial "8 pings (IPv4 and IPv6) ok"
		for k in 1 2; do
			for ip in "$(ip4 $((3 - k)) 2)" "$(ip6 $((3 - k)) 2)"; do
				run in_ns "$(pod "$lab" "$k" 1)" ping -c 1 -W 2 "$ip"
				assert_success
				assert_output --partial "ttl=62"
			done
		done
	done
	run env LAB="$VX" "$ROOT/netns/cluster" env
	assert_line "OVERLAY=vxlan"
	assert_line "CL_POD_MTU=1450"
	run env LAB="$NR" "$ROOT/netns/cluster" env
	assert_line "OVERLAY=none"
	assert_line "CL_POD_MTU=1500"
	# What the underlay switch carries: VXLAN (UDP 8472) with the overlay,
	# the pods' own ICMP without.
	for lab in "$VX" "$NR"; do
		cap=$BATS_TEST_TMPDIR/ul.$lab.log
		bg "$lab-ul" "$cap" timeout 60 tcpdump -n -i br0 -c 4 "udp port 8472 or icmp"
		wait_until 30 grep -q "listening on" "$cap"
		in_ns "$(pod "$lab" 1 1)" ping -c 2 -i 0.2 -W 2 "$(ip4 2 1)" >/dev/null
		wait "$BG_PID"
		n=$(grep -cE ' > 198\.18\.20\.[0-9]+\.8472: ' "$cap" || true)
		if [[ "$lab" == "$VX" ]]; then
			assert_equal "$n" 4
		else
			assert_equal "$n" 0
			assert_equal "$(grep -c "198.19.1.1 > 198.19.2.1: ICMP echo request" "$cap")" 2
		fi
	done
}

@test "vxlan: TCP pod to pod across nodes, IPv4 and IPv6, both ways, on the fast path of both nodes" {
	fast_path_proof "$VX"
	# The path: REDIRECT pod -> vxlan0 on one node, PEER vxlan0 -> pod on the
	# other (the loads were fresh: these are the flows' own counts).  Each
	# way carries the data of two flows (IPv4, IPv6): 4 MB is more than 64
	# GSO super-packets a flow (64 KB at most each), however the kernel
	# merges them: at least 128, ACKs aside.
	local k
	for k in 1 2; do
		(($(reasons_packets "$(node "$VX" "$k")" veth-p1 REDIRECT) >= 128))
		(($(reasons_packets "$(node "$VX" "$k")" vxlan0 PEER) >= 128))
	done
}

@test "native routing: TCP pod to pod across nodes, IPv4 and IPv6, both ways, on the fast path of both nodes" {
	fast_path_proof "$NR"
	local k
	for k in 1 2; do # (at least 128: as above)
		(($(reasons_packets "$(node "$NR" "$k")" veth-p1 REDIRECT) >= 128))
		(($(reasons_packets "$(node "$NR" "$k")" eth0 PEER) >= 128))
	done
}

mtu_restore() {
	local k
	for k in 1 2; do
		in_ns "$(pod "$VX" "$k" 1)" ip link set eth0 mtu 1450
		in_ns "$(pod "$VX" "$k" 1)" ip route flush cache
		in_ns "$(pod "$VX" "$k" 1)" ip -6 route flush cache
	done
}

@test "vxlan MTU: pods at 1500 over the 1450 overlay get frag-needed / packet-too-big, PMTU, the flow completes" {
	load_nodes "$VX"
	local a k f0 fn0 icmp0 icmp60 fam
	a=$(node "$VX" 1)
	# A pod MTU the overlay cannot carry (a CNI MTU left at the default).
	for k in 1 2; do in_ns "$(pod "$VX" "$k" 1)" ip link set eth0 mtu 1500; done
	for fam in 4 6; do
		fn0=$(reasons_packets "$a" veth-p1 FIB_FRAG_NEEDED)
		icmp0=$(snmp0 "$a" IcmpMsgOutType3)
		icmp60=$(snmp0 "$a" Icmp6OutPktTooBigs)
		f0=$(ns_fwd "$a")
		xfer "$(pod "$VX" 1 1)" "$(pod "$VX" 2 1)" "$("ip$fam" 2 1)"
		# tcaccel handed the too-big packets to the kernel, which answered.
		(($(reasons_packets "$a" veth-p1 FIB_FRAG_NEEDED) > fn0))
		if [[ "$fam" == 4 ]]; then
			(($(snmp0 "$a" IcmpMsgOutType3) > icmp0))
			run in_ns "$(pod "$VX" 1 1)" ip route get "$(ip4 2 1)"
		else
			(($(snmp0 "$a" Icmp6OutPktTooBigs) > icmp60))
			run in_ns "$(pod "$VX" 1 1)" ip -6 route get "$(ip6 2 1)"
		fi
		assert_output --partial "mtu 1450"
		# The rest of the flow went the fast path: a handful of datagrams
		# (the ones too big) reached the kernel, not thousands.
		(($(ns_fwd "$a") - f0 < 20))
	done
	mtu_restore
}

# flap LAB: a shaped flow pod n1p1 -> n2p1; node 1's underlay link goes down
# once 512 KB have arrived and comes back while the flow stalls.
flap() {
	local lab=$1 a b out=$BATS_TEST_TMPDIR/received prog sent frozen f0b fw0 fw1
	a=$(node "$lab" 1) b=$(node "$lab" 2)
	load_nodes "$lab"
	prog=$(our_prog "$a" eth0)
	rm -f "$out"
	# 4 MB at 16 Mbit/s: two seconds of flow, the link goes down a quarter
	# of a second in.
	cp "$DATA" "$BATS_TEST_TMPDIR/flow"
	in_ns "$(pod "$lab" 1 1)" tc qdisc replace dev eth0 root tbf rate 16mbit burst 32k latency 100ms
	bg "$(pod "$lab" 2 1)" "$BATS_TEST_TMPDIR/listen.log" timeout 30 \
		socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$out,creat,trunc"
	local lpid=$BG_PID
	wait_listen "$(pod "$lab" 2 1)" 5001
	bg "$(pod "$lab" 1 1)" "$BATS_TEST_TMPDIR/send.log" timeout 30 \
		socat -u "OPEN:$BATS_TEST_TMPDIR/flow" "TCP:$(ip4 2 1):5001"
	local spid=$BG_PID
	# shellcheck disable=SC2016 # for the inner bash
	wait_until 30 bash -c '(($(stat -c %s "$1" 2>/dev/null || echo 0) > 512 * 1024))' _ "$out"
	in_ns "$a" ip link set eth0 down
	# Down: the flow stalls.  What was in flight, and what the receiver's
	# socket held that socat had not written yet (a slow CPU's socat lags),
	# lands first; then, over half a second where the shaped flow moves a
	# megabyte, nothing more arrives.
	wait_until 10 settled "$out" || true
	sent=$(stat -c %s "$out")
	# Node 2's counters while nothing moves (read before the link is up:
	# the rest of the flow may take less than reading them takes).
	local in=vxlan0
	[[ "$lab" == "$NR" ]] && in=eth0
	f0b=$(ns_fwd "$b")
	fw0=$(fast "$b" "$in")
	sleep 0.5
	frozen=$(stat -c %s "$out")
	in_ns "$a" ip link set eth0 up
	# What the node's agents do on link up (IPv6 addresses and the routes
	# through the link went with it): idempotent.
	LAB=$lab "$ROOT/netns/cluster" sync 1
	wait "$spid"
	wait "$lpid"
	in_ns "$(pod "$lab" 1 1)" tc qdisc del dev eth0 root
	((frozen - sent < 64 * 1024)) || fail "$((frozen - sent)) bytes arrived while the link was down"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_TEST_TMPDIR/flow")"
	# The filter rode out the flap; after it the flow was on the fast path.
	assert_equal "$(our_prog "$a" eth0)" "$prog"
	fw1=$(fast "$b" "$in")
	echo "# $lab flap: $sent bytes before the link went down, $((fw1 - fw0)) forwarded by tcaccel on node 2 after, kernel $(($(ns_fwd "$b") - f0b))" >&3
	((fw1 - fw0 > 50))
	(($(ns_fwd "$b") - f0b < 5))
}

@test "underlay link of a node down and up mid-flow: the flow completes, still on the fast path (vxlan, native)" {
	flap "$VX"
	flap "$NR"
}

@test "a pod added after load all: on the slow path until load all (or service reload of an 'all' instance) runs again" {
	local b f0 fk ff p0 conf=$BATS_TEST_TMPDIR/all.conf
	b=$(node "$VX" 2)
	load_nodes "$VX"
	run env LAB="$VX" "$ROOT/netns/cluster" add-pod 2 3
	assert_success
	assert_equal "$(our_prog "$b" veth-p3)" ""
	# Its replies (the TCP ACKs) enter veth-p3, which carries no program.
	f0=$(ns_fwd "$b")
	xfer "$(pod "$VX" 1 1)" "$(pod "$VX" 2 3)" "$(ip4 2 3)"
	fk=$(($(ns_fwd "$b") - f0))
	((fk >= 50))
	"$TCACCEL" load all --netns "$b" 2>/dev/null
	[[ -n "$(our_prog "$b" veth-p3)" ]]
	f0=$(ns_fwd "$b")
	p0=$(reasons_packets "$b" vxlan0 PEER)
	xfer "$(pod "$VX" 1 1)" "$(pod "$VX" 2 3)" "$(ip4 2 3)"
	ff=$(($(ns_fwd "$b") - f0))
	echo "# pod added later: node 2 kernel-forwarded $fk before load all, $ff after" >&3
	((ff * 10 < fk))
	# ... and now peer-capable: vxlan0 hands its packets straight in (one
	# flow's 4 MB: more than 64 super-packets).
	(($(reasons_packets "$b" vxlan0 PEER) - p0 >= 64))

	# The service way: an instance with IFACE=all, reloaded.
	run env LAB="$VX" "$ROOT/netns/cluster" add-pod 2 4
	assert_success
	printf 'IFACE=all\nNETNS=%s\n' "$b" >"$conf"
	run "$TCACCEL" service reload all --conf "$conf"
	assert_success
	assert_output --partial "loaded on veth-p4 (netns $b)"
	in_ns "$(pod "$VX" 1 2)" ping -c 1 -W 2 "$(ip6 2 4)"
	run "$TCACCEL" service stop all --conf "$conf"
	assert_success
	run "$TCACCEL" status --netns "$b" --format json
	assert_output "[]"
	[[ ! -e "$(pin_root "$b")" ]]
}
