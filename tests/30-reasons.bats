#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Every outcome, in the kernel, on crafted frames (BPF_PROG_TEST_RUN through
# `bpftool prog run`), against the program attached to the router lab's
# to-client ingress.  The test run happens inside the router's netns, so
# bpf_fib_lookup() answers from the router's real FIB.
#
# For a pass: verdict TC_ACT_OK (0), bytes unchanged, the reason's counter +1.
# For a forward: TC_ACT_REDIRECT (7), MACs from the FIB, TTL - 1 and a valid
# IPv4 header checksum (checked by tests/lib/pkt.py, not by the program).

load helpers

setup_file() {
	lab_up router
	# The matrix is about what gets forwarded, so plain redirect mode: the
	# other modes are covered in tests/25-modes.bats.
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	# Routes whose FIB answer is not SUCCESS.
	in_ns "$NS_ROUTER" ip route add blackhole 198.18.50.0/24
	in_ns "$NS_ROUTER" ip route add unreachable 198.18.51.0/24
	in_ns "$NS_ROUTER" ip route add prohibit 198.18.52.0/24
	in_ns "$NS_ROUTER" ip route add 198.18.53.0/24 encap ip id 1 dst "$SERVER_IP4" via "$SERVER_IP4" dev "$RT_IF_SERVER"
	in_ns "$NS_ROUTER" ip -6 route add blackhole 2001:2:0:50::/64
	in_ns "$NS_ROUTER" ip -6 route add unreachable 2001:2:0:51::/64
	in_ns "$NS_ROUTER" ip -6 route add prohibit 2001:2:0:52::/64
	in_ns "$NS_ROUTER" ip -6 route add 2001:2:0:53::/64 encap seg6 mode encap segs 2001:2:0:2::2 dev "$RT_IF_SERVER"
	# Looked up once: the interface's ifindex and stats slot (a reload keeps both).
	CL_IDX=$(ifindex "$NS_ROUTER" "$RT_IF_CLIENT")
	CL_SLOT=$(iface_slot "$NS_ROUTER" "$RT_IF_CLIENT")
	export CL_IDX CL_SLOT
	# The lab is live: the last MLD reports of interfaces that just came up
	# would count beside our frames.  Wait until to-client's counters rest.
	wait_until 15 counters_still
}

# counters_still: to-client's counters do not move for a second.
counters_still() {
	local a
	a=$(slot_packets "$NS_ROUTER" "$CL_SLOT")
	sleep 1
	[[ "$(slot_packets "$NS_ROUTER" "$CL_SLOT")" == "$a" ]]
}

teardown_file() {
	lab_down
}

# Undo what single tests change, whether they passed or not.
teardown() {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.forwarding=1" "net.ipv6.conf.$RT_IF_CLIENT.forwarding=1"
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1500
	if [[ "$(in_ns "$NS_ROUTER" sysctl -n "net.ipv4.conf.$RT_IF_CLIENT.rp_filter")" != 0 ]]; then
		in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=0"
		"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	fi
}

# run_frame SLOT REASON CTX_IFINDEX PKT-ARGS...: build a frame, run it through
# to-client's program as if it arrived on CTX_IFINDEX; sets VERDICT and
# DELTA (how much REASON's counter in SLOT moved).
run_frame() {
	local slot=$1 idx before after res prog
	idx=$(reason_index "$2")
	prog=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	local ctx_if=$3
	shift 3
	"$PKT" "$@" >"$BATS_TEST_TMPDIR/in.bin"
	"$PKT" ctx "$ctx_if" >"$BATS_TEST_TMPDIR/ctx.bin"
	read -ra before <<<"$(slot_packets "$NS_ROUTER" "$slot")"
	res=$(in_ns "$NS_ROUTER" bpftool prog run id "$prog" data_in "$BATS_TEST_TMPDIR/in.bin" \
		data_out "$BATS_TEST_TMPDIR/out.bin" ctx_in "$BATS_TEST_TMPDIR/ctx.bin")
	read -ra after <<<"$(slot_packets "$NS_ROUTER" "$slot")"
	VERDICT=$(sed -n 's/^Return value: \([0-9-]*\),.*/\1/p' <<<"$res")
	DELTA=$((after[idx] - before[idx]))
}

# expect_pass REASON PKT-ARGS...: TC_ACT_UNSPEC (next filter), bytes unchanged, REASON +1.
expect_pass() {
	local reason=$1
	shift
	run_frame "$CL_SLOT" "$reason" "$CL_IDX" "$@"
	assert_equal "verdict $VERDICT" "verdict $TC_ACT_UNSPEC"
	cmp "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin"
	assert_equal "$reason +$DELTA" "$reason +1"
}

# expect_fwd PKT-ARGS...: TC_ACT_REDIRECT, rewritten for the server side.
expect_fwd() {
	run_frame "$CL_SLOT" REDIRECT "$CL_IDX" "$@"
	assert_equal "verdict $VERDICT" "verdict $TC_ACT_REDIRECT"
	"$PKT" check-fwd "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin" "$RT_SERVER_MAC" "$SERVER_MAC"
	assert_equal "REDIRECT +$DELTA" "REDIRECT +1"
}

# --- forwarded ------------------------------------------------------------------

@test "forward: IPv4 UDP, TCP, ICMP get FIB MACs, TTL-1, valid checksum" {
	expect_fwd v4 --proto udp
	expect_fwd v4 --proto tcp --df
	expect_fwd v4 --proto icmp --ttl 255
	expect_fwd v4 --ttl 2
}

@test "forward: IPv6 UDP, TCP, ICMPv6 get FIB MACs and hop limit - 1" {
	expect_fwd v6 --proto udp
	expect_fwd v6 --proto tcp
	expect_fwd v6 --proto icmp --ttl 255
	expect_fwd v6 --ttl 2
}

@test "forward: a 1500-byte IPv4 packet fits the 1500 MTU exactly" {
	expect_fwd v4 --payload $((1500 - 20 - 8)) --df
}

# --- L2 ---------------------------------------------------------------------------

@test "pass NOT_IP: ARP" {
	expect_pass NOT_IP arp --dmac ff:ff:ff:ff:ff:ff
	expect_pass NOT_IP arp
}

@test "pass VLAN: 802.1Q and QinQ tagged frames" {
	expect_pass VLAN v4 --vlan 10
	expect_pass VLAN v4 --vlan 10 --qinq
}

@test "pass NOT_FOR_US: destination MAC of another host" {
	expect_pass NOT_FOR_US v4 --dmac 02:ca:00:99:99:99
}

@test "pass MULTICAST: L2 broadcast/multicast and L3 multicast/broadcast" {
	expect_pass MULTICAST v4 --dmac ff:ff:ff:ff:ff:ff
	expect_pass MULTICAST v4 --dmac 01:00:5e:00:00:05 --dst 224.0.0.5
	expect_pass MULTICAST v4 --dst 239.1.2.3
	expect_pass MULTICAST v4 --dst 255.255.255.255
	expect_pass MULTICAST v6 --dst ff02::1
	expect_pass MULTICAST v6 --dmac 33:33:00:00:00:01 --dst ff02::1
}

# --- IPv4 header -----------------------------------------------------------------

@test "pass TRUNCATED: IPv4 total length / IPv6 payload length beyond the frame" {
	expect_pass TRUNCATED v4 --tot-len 200
	expect_pass TRUNCATED v6 --payload-len 500
}

@test "kernel refuses a frame whose IP header itself is cut (EINVAL before we run)" {
	"$PKT" v4 --truncate 30 >"$BATS_TEST_TMPDIR/in.bin"
	run prog_run "$NS_ROUTER" "$RT_IF_CLIENT" "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin"
	assert_failure
}

@test "pass BAD_HEADER: wrong version nibble, IHL < 5, total length < 20" {
	expect_pass BAD_HEADER v4 --version 6
	expect_pass BAD_HEADER v4 --ihl 4
	expect_pass BAD_HEADER v4 --tot-len 12
	expect_pass BAD_HEADER v6 --version 4
}

@test "pass BAD_CSUM: IPv4 header checksum wrong" {
	expect_pass BAD_CSUM v4 --bad-csum
}

@test "pass IP_OPTIONS: IPv4 with options" {
	expect_pass IP_OPTIONS v4 --options
}

@test "pass FRAGMENT: IPv4 MF set, fragment offset set" {
	expect_pass FRAGMENT v4 --mf
	expect_pass FRAGMENT v4 --frag-off 10
}

@test "pass IPV6_EXTHDR: hop-by-hop, routing, fragment, destination options" {
	local h
	for h in 0 43 44 60; do
		expect_pass IPV6_EXTHDR v6 --exthdr "$h"
	done
}

@test "pass MARTIAN: loopback, zero-net, multicast source, link-local, v4-mapped" {
	expect_pass MARTIAN v4 --src 127.0.0.1
	expect_pass MARTIAN v4 --src 0.0.0.0
	expect_pass MARTIAN v4 --src 224.0.0.9
	expect_pass MARTIAN v4 --dst 127.0.0.1
	expect_pass MARTIAN v6 --src ::1
	expect_pass MARTIAN v6 --src ::
	expect_pass MARTIAN v6 --src fe80::1
	expect_pass MARTIAN v6 --dst fe80::1
	expect_pass MARTIAN v6 --src ::ffff:198.18.1.2
}

@test "pass TTL_EXCEEDED: TTL 0/1 and hop limit 0/1 of routed packets" {
	expect_pass TTL_EXCEEDED v4 --ttl 1
	expect_pass TTL_EXCEEDED v4 --ttl 0
	expect_pass TTL_EXCEEDED v6 --ttl 1
	expect_pass TTL_EXCEEDED v6 --ttl 0
}

# --- FIB answers ------------------------------------------------------------------

@test "pass FIB_NOT_FWDED: destination local to the router, and no route" {
	expect_pass FIB_NOT_FWDED v4 --dst "$RT_SERVER_IP4"
	expect_pass FIB_NOT_FWDED v4 --dst "$RT_SERVER_IP4" --ttl 1
	expect_pass FIB_NOT_FWDED v4 --dst 203.0.113.9
	expect_pass FIB_NOT_FWDED v6 --dst "$RT_SERVER_IP6"
}

@test "pass FIB_BLACKHOLE, FIB_UNREACHABLE, FIB_PROHIBIT routes" {
	expect_pass FIB_BLACKHOLE v4 --dst 198.18.50.1
	expect_pass FIB_UNREACHABLE v4 --dst 198.18.51.1
	expect_pass FIB_PROHIBIT v4 --dst 198.18.52.1
	expect_pass FIB_BLACKHOLE v6 --dst 2001:2:0:50::1
	expect_pass FIB_UNREACHABLE v6 --dst 2001:2:0:51::1
	expect_pass FIB_PROHIBIT v6 --dst 2001:2:0:52::1
}

@test "pass FIB_UNSUPP_LWT: route with an encapsulation" {
	expect_pass FIB_UNSUPP_LWT v4 --dst 198.18.53.1
	expect_pass FIB_UNSUPP_LWT v6 --dst 2001:2:0:53::1
}

@test "pass FIB_NO_NEIGH: next hop without a neighbour entry" {
	expect_pass FIB_NO_NEIGH v4 --dst 198.18.2.77
	expect_pass FIB_NO_NEIGH v6 --dst 2001:2:0:2::77
}

@test "pass FIB_FWD_DISABLED: forwarding off on the ingress device" {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.forwarding=0" "net.ipv6.conf.$RT_IF_CLIENT.forwarding=0"
	expect_pass FIB_FWD_DISABLED v4
	expect_pass FIB_FWD_DISABLED v6
}

@test "pass FIB_FRAG_NEEDED: bigger than the egress MTU, including the 4-byte slack" {
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1280
	expect_pass FIB_FRAG_NEEDED v4 --payload 1400 --df
	# 1282 > 1280: is_skb_forwardable() would allow it (VLAN slack); we must not.
	expect_pass FIB_FRAG_NEEDED v4 --payload $((1282 - 28)) --df
	expect_pass FIB_FRAG_NEEDED v6 --payload 1400
	expect_fwd v4 --payload $((1280 - 28)) --df
}

@test "pass HAIRPIN: egress would be the ingress device" {
	expect_pass HAIRPIN v4 --dst "$CLIENT_IP4" --src 198.18.1.3
	expect_pass HAIRPIN v6 --dst "$CLIENT_IP6" --src 2001:2:0:1::3
}

@test "pass DISABLED: an interface without config counts in the unconfigured slot" {
	# to-server has no tcaccel config: a frame "arriving" there is passed.
	run_frame 0 DISABLED "$(ifindex "$NS_ROUTER" "$RT_IF_SERVER")" v4
	assert_equal "verdict $VERDICT" "verdict $TC_ACT_UNSPEC"
	cmp "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin"
	assert_equal "DISABLED +$DELTA" "DISABLED +1"
}

@test "pass RPF_FAILED: rp_filter strict - spoofed and unroutable sources" {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=1"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	# 198.18.2.99 lives behind to-server, not behind to-client: spoofed.
	expect_pass RPF_FAILED v4 --src 198.18.2.99
	expect_pass RPF_FAILED v4 --src 203.0.113.5
	expect_fwd v4
	expect_fwd v4 --src 198.18.1.77
}

@test "pass RPF_FAILED: rp_filter loose - only sources with no route at all" {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=2"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	expect_fwd v4 --src 198.18.2.99
	expect_pass RPF_FAILED v4 --src 203.0.113.5
}
