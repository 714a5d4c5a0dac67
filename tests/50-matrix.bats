#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The bad-packet matrix (tests/matrix.txt): every kind of malformed, special
# or borderline frame, run in the kernel with BPF_PROG_TEST_RUN against the
# program attached in the router lab, each checked for the one thing it may
# get: TC_ACT_OK with its bytes unchanged and exactly the right reason
# counter +1, or a correct redirect (MACs from the FIB, TTL - 1, valid IPv4
# checksum; tests/lib/pkt.py checks, not the program).
#
# What the test run cannot carry goes over the wire: frames cut inside the
# Ethernet or IP header (the test run refuses them), VLAN tags the kernel
# moved into skb metadata, 9000-byte jumbo frames.

load helpers
load lib/reliability

setup_file() {
	lab_up router
	lab_hostile
	# The table is redirect mode's exact semantics (which reason, which
	# bytes); auto's choice between PEER and REDIRECT is proven in
	# 25-modes and by the fuzzer.
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
}

teardown_file() {
	lab_down
}

teardown() {
	in_ns "$NS_ROUTER" ip route del 198.18.62.0/24 2>/dev/null || true
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv6.conf.$RT_IF_SERVER.mtu=1500"
	in_ns "$NS_CLIENT" ip link set eth0 mtu 1500
	in_ns "$NS_SERVER" ip link set eth0 mtu 1500
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" mtu 1500
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1500
	# what the client learnt about the path (PMTU) goes too
	in_ns "$NS_CLIENT" ip route flush cache
	in_ns "$NS_CLIENT" ip -6 route flush cache
}

# --- in the kernel, frame by frame ------------------------------------------------

@test "matrix: well-formed and zero-length frames are forwarded, rewritten exactly" {
	run_matrix fwd,zero
}

@test "matrix: TTL 0/1/2/255, hop limit 0/1/2/255; checksum carries of the TTL decrement" {
	run_matrix ttl,csum
}

@test "matrix: truncated at every header boundary (Ethernet, IPv4, IPv6, L4)" {
	run_matrix trunc
}

@test "matrix: IPv4 header lies (IHL, total length, version), options, bad checksum, fragments" {
	run_matrix ipv4,frag
}

@test "matrix: IPv6 version, payload length lies, extension headers" {
	run_matrix ipv6
}

@test "matrix: VLAN, QinQ, ARP, LLDP, other EtherTypes, foreign MACs, unconfigured interface" {
	run_matrix l2
}

@test "matrix: multicast and broadcast at L2 and L3, directed broadcast, anycast" {
	run_matrix mcast
}

@test "matrix: martian, loopback, link-local, v4-mapped and local addresses" {
	run_matrix addr
}

@test "matrix: FIB answers, hairpin, sizes against the egress MTU" {
	run_matrix fib,size
}

@test "matrix: IPv6's own egress MTU (mtu6) below the device MTU" {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv6.conf.$RT_IF_SERVER.mtu=1280"
	run_matrix mtu6
}

@test "load warns about an IPv4 route MTU the fast path cannot see (not locked)" {
	in_ns "$NS_ROUTER" ip route add 198.18.62.0/24 via "$SERVER_IP4" mtu 1300
	run "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect
	assert_success
	assert_output --partial "not locked in netns $NS_ROUTER: 198.18.62.0/24 (mtu 1300)"
	refute_output --partial "198.18.61.0/24" # mtu lock 1300: honoured
}

@test "matrix: padding and trailers after the IP packet" {
	run_matrix pad
}

@test "matrix: rp_filter strict on the ingress: spoofed, unroutable and local sources" {
	run_matrix rpf
}

# --- on the wire -----------------------------------------------------------------

@test "wire: frames cut inside the Ethernet or IP header count TRUNCATED; the stack drops them" {
	local n=0 t0 h0 h60 f0 cut frame=$BATS_TEST_TMPDIR/cut.bin
	t0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" TRUNCATED)
	h0=$(snmp "$NS_ROUTER" IpInHdrErrors)
	h60=$(snmp "$NS_ROUTER" Ip6InHdrErrors)
	f0=$(snmp "$NS_ROUTER" IpForwDatagrams)
	for cut in 14 20 33; do
		"$PKT" v4 --truncate "$cut" >"$frame"
		raw_send "$NS_CLIENT" "$frame" 10
		n=$((n + 10))
	done
	for cut in 14 40 53; do
		"$PKT" v6 --truncate "$cut" >"$frame"
		raw_send "$NS_CLIENT" "$frame" 10
		n=$((n + 10))
	done
	assert_equal "TRUNCATED +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" TRUNCATED) - t0))" "TRUNCATED +$n"
	# The stack saw them and dropped them as header errors, as it would without us.
	assert_equal "IpInHdrErrors +$(($(snmp "$NS_ROUTER" IpInHdrErrors) - h0))" "IpInHdrErrors +30"
	assert_equal "Ip6InHdrErrors +$(($(snmp "$NS_ROUTER" Ip6InHdrErrors) - h60))" "Ip6InHdrErrors +30"
	assert_equal "forwarded +$(($(snmp "$NS_ROUTER" IpForwDatagrams) - f0))" "forwarded +0"
}

@test "wire: 802.1Q and QinQ tagged frames (tag already in skb metadata) count VLAN, nothing forwarded" {
	local v0 r0 frame=$BATS_TEST_TMPDIR/vlan.bin
	v0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" VLAN)
	r0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)
	"$PKT" v4 --vlan 10 >"$frame"
	raw_send "$NS_CLIENT" "$frame" 20
	"$PKT" v6 --vlan 10 --qinq >"$frame"
	raw_send "$NS_CLIENT" "$frame" 20
	assert_equal "VLAN +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" VLAN) - v0))" "VLAN +40"
	assert_equal "REDIRECT +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) - r0))" "REDIRECT +0"
}

@test "wire: a GSO packet of 8000-byte UDP segments is not redirected into a 1500-byte egress" {
	# The client sends 9000-byte frames, the router's egress takes 1500:
	# one UDP_SEGMENT send of 3 x 8000 bytes reaches the router as a single
	# GSO packet.  ip_forward() checks each segment against the egress
	# MTU; IPv4 without DF is fragmented, IPv6 gets "packet too big".
	local f0 r0 fr0 tb0 got
	in_ns "$NS_CLIENT" ip link set eth0 mtu 9000
	in_ns "$NS_SERVER" ip link set eth0 mtu 9000
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" mtu 9000
	f0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED)
	r0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)
	fr0=$(snmp "$NS_ROUTER" IpFragCreates)
	tb0=$(snmp "$NS_ROUTER" Icmp6OutPktTooBigs)

	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 30 "$TRAFFIC" udp-recv 5201 3 2
	wait_listen "$NS_SERVER" 5201 udp
	got=$(in_ns "$NS_CLIENT" "$TRAFFIC" udp-gso-send "$SERVER_IP4" 5201 3 8000)
	wait "$BG_PID"
	# delivered intact, in fragments the router's stack made
	assert_equal "$(cat "$BATS_TEST_TMPDIR/udp.out")" "3 $got"
	(($(snmp "$NS_ROUTER" IpFragCreates) - fr0 >= 18))

	udp_count_start "$NS_SERVER" 5201
	in_ns "$NS_CLIENT" "$TRAFFIC" udp-gso-send "$SERVER_IP6" 5201 3 8000 >/dev/null
	udp_count_stop got
	# too big for the egress, never fragmented by a router: dropped, PTB sent
	assert_equal "IPv6 received $got" "IPv6 received 0"
	assert_equal "PTB +$(($(snmp "$NS_ROUTER" Icmp6OutPktTooBigs) - tb0))" "PTB +1"

	assert_equal "FIB_FRAG_NEEDED +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED) - f0)) REDIRECT +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) - r0))" \
		"FIB_FRAG_NEEDED +2 REDIRECT +0"
}

@test "wire: 9000-byte jumbo frames are forwarded when every hop allows them, FRAG_NEEDED when the egress does not" {
	local r0 b0 f0
	in_ns "$NS_CLIENT" ip link set eth0 mtu 9000
	in_ns "$NS_SERVER" ip link set eth0 mtu 9000
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" mtu 9000
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 9000
	r0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)
	b0=$("$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER" -F json | jq '.[0].counters.REDIRECT.bytes')
	# 9000-byte IP packets, DF: one frame each way, no fragmentation anywhere.
	run in_ns "$NS_CLIENT" ping -c 2 -i 0.2 -W 2 -M "do" -s $((9000 - 28)) "$SERVER_IP4"
	assert_success
	assert_output --partial "$((9000 - 20)) bytes from $SERVER_IP4: icmp_seq=1 ttl=63"
	run in_ns "$NS_CLIENT" ping -c 2 -i 0.2 -W 2 -M "do" -s $((9000 - 48)) "$SERVER_IP6"
	assert_success
	assert_output --partial "ttl=63"
	assert_equal "REDIRECT +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) - r0))" "REDIRECT +4"
	assert_equal "bytes +$(($("$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER" -F json |
		jq '.[0].counters.REDIRECT.bytes') - b0))" "bytes +$((4 * 9014))"

	# The egress back to 1500: the stack answers, as without us.
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1500
	f0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED)
	run in_ns "$NS_CLIENT" ping -c 1 -W 2 -M "do" -s $((9000 - 28)) "$SERVER_IP4"
	assert_failure
	assert_output --partial "Frag needed and DF set (mtu = 1500)"
	run in_ns "$NS_CLIENT" ping -c 1 -W 2 -M "do" -s $((9000 - 48)) "$SERVER_IP6"
	assert_failure
	assert_output --partial "Packet too big: mtu=1500"
	assert_equal "FIB_FRAG_NEEDED +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED) - f0))" "FIB_FRAG_NEEDED +2"
}

# kernel_sees NS: IP packets NS's stack received, both families.
kernel_sees() {
	echo $(($(snmp "$1" IpInReceives) + $(snmp "$1" Ip6InReceives)))
}

@test "wire: IPv4 from one of the router's own addresses is dropped (martian), as without us" {
	local m0 s0 frame=$BATS_TEST_TMPDIR/local-src.bin
	m0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" MARTIAN)
	s0=$(kernel_sees "$NS_SERVER")
	"$PKT" v4 --src "$RT_SERVER_IP4" --dst "$SERVER_IP4" >"$frame"
	raw_send "$NS_CLIENT" "$frame" 20
	"$PKT" v4 --src "$RT_CLIENT_IP4" --dst "$SERVER_IP4" >"$frame"
	raw_send "$NS_CLIENT" "$frame" 20
	# the same frame from the client's own address does get through
	"$PKT" v4 --src "$CLIENT_IP4" --dst "$SERVER_IP4" >"$frame"
	raw_send "$NS_CLIENT" "$frame" 5
	sees_from() { (($(kernel_sees "$NS_SERVER") >= s0 + 5)); }
	wait_until 30 sees_from
	assert_equal "MARTIAN +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" MARTIAN) - m0))" "MARTIAN +40"
	assert_equal "server received +$(($(kernel_sees "$NS_SERVER") - s0))" "server received +5"
}

# frame_len_at NS FILTER FRAME COUNT: send FRAME COUNT times from the client
# and print the length of the first frame matching FILTER that NS's eth0
# receives.
frame_len_at() {
	local log=$BATS_TEST_TMPDIR/tcpdump.$RANDOM
	bg "$1" "$log" timeout 60 tcpdump -l -n -e -c 1 -i eth0 "$2"
	wait_until 30 grep -q "listening on" "$log"
	raw_send "$NS_CLIENT" "$3" "$4"
	wait "$BG_PID" || true
	sed -n 's/.*, length \([0-9]*\): .*/\1/p' "$log" | head -n1
}

@test "wire: a padded frame leaves the router trimmed to its IP length, as without us" {
	local p0 frame=$BATS_TEST_TMPDIR/padded.bin
	p0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" PADDED)
	# 46-byte IPv4 packet + 100 bytes of trailer: 160 bytes in, 60 out.
	"$PKT" v4 --pad 100 >"$frame"
	assert_equal "$(frame_len_at "$NS_SERVER" "udp and src $CLIENT_IP4" "$frame" 1)" 60
	"$PKT" v6 --pad 100 >"$frame"
	assert_equal "$(frame_len_at "$NS_SERVER" "udp and src $CLIENT_IP6" "$frame" 1)" 80
	assert_equal "PADDED +$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" PADDED) - p0))" "PADDED +2"
}
