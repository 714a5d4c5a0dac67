#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# End to end through the router lab (diagram: netns/router), with tcaccel on
# both router interfaces in the default mode (auto: the router's veths lead
# into the client's and server's namespaces, so packets take PEER).  Connectivity alone proves nothing - the kernel
# forwards too - so every test also checks *which* path carried the traffic:
# the program's forward counters (REDIRECT, PEER, NEIGH) rise and the router's own forwarding
# counters (IpForwDatagrams, Ip6OutForwDatagrams) stay flat, or the reverse
# once unloaded.

load helpers

TRAFFIC=$ROOT/tests/lib/traffic.py

setup_file() {
	lab_up router
	head -c 20M /dev/urandom >"$BATS_FILE_TMPDIR/data"
}

teardown_file() {
	lab_down
}

# Every test starts with tcaccel on both router interfaces with the
# default settings.  `load` costs a second or two, so it runs only when a
# test took it away (unload) or changed its settings (touch
# $BATS_FILE_TMPDIR/reload); the counters carry over, and the tests count
# differences.
setup() {
	if [[ -e "$BATS_FILE_TMPDIR/reload" ]]; then
		rm "$BATS_FILE_TMPDIR/reload"
		"$TCACCEL" load all --netns "$NS_ROUTER" 2>/dev/null
	fi
	ensure_loaded "$NS_ROUTER" "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

teardown() {
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=0"
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1500
	in_ns "$NS_CLIENT" ip route flush cache
	in_ns "$NS_CLIENT" ip -6 route flush cache
}

redirects() { # forwarded by the fast path, both router interfaces, any mode
	echo $(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") + $(forwarded "$NS_ROUTER" "$RT_IF_SERVER")))
}

kernel_fwd() { # the router's forwarded datagrams, both families
	ns_fwd "$NS_ROUTER"
}

# ping_ttl NS DST: three pings, every reply must say ttl=63 (one hop).
ping_ttl() {
	run in_ns "$1" ping -c 3 -i 0.2 -W 2 "$2"
	assert_success
	assert_equal "$(grep -c 'ttl=63' <<<"$output")" 3
}

@test "ping both ways, IPv4 and IPv6: replies come back with TTL 63 on the fast path" {
	local r0 f0
	r0=$(redirects)
	f0=$(kernel_fwd)
	ping_ttl "$NS_CLIENT" "$SERVER_IP4"
	ping_ttl "$NS_CLIENT" "$SERVER_IP6"
	ping_ttl "$NS_SERVER" "$CLIENT_IP4"
	ping_ttl "$NS_SERVER" "$CLIENT_IP6"
	# 4 x 3 requests + 4 x 3 replies, all redirected, none forwarded by the kernel
	assert_equal "redirected $(($(redirects) - r0)), kernel $(($(kernel_fwd) - f0))" "redirected 24, kernel 0"
}

@test "the far end sees TTL 63 and hop limit 63 (tcpdump on the server)" {
	local log=$BATS_TEST_TMPDIR/tcpdump
	bg "$NS_SERVER" "$log" timeout 60 tcpdump -l -n -v -c 1 -i eth0 "icmp and src $CLIENT_IP4"
	wait_until 30 grep -q "listening on" "$log"
	in_ns "$NS_CLIENT" ping -c 1 -W 2 "$SERVER_IP4"
	wait "$BG_PID"
	run grep -c "ttl 63," "$log"
	assert_output 1

	log=$BATS_TEST_TMPDIR/tcpdump6
	bg "$NS_SERVER" "$log" timeout 60 tcpdump -l -n -v -c 1 -i eth0 "icmp6 and src $CLIENT_IP6"
	wait_until 30 grep -q "listening on" "$log"
	in_ns "$NS_CLIENT" ping -c 1 -W 2 "$SERVER_IP6"
	wait "$BG_PID"
	run grep -c "hlim 63," "$log"
	assert_output 1
}

# tcp_send DST: the 20 MB file to the server over TCP, sha256 checked.
tcp_send() {
	local out=$BATS_TEST_TMPDIR/received
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/socat.log" timeout 60 \
		socat -u TCP6-LISTEN:5001,reuseaddr,ipv6only=0 "OPEN:$out,creat,trunc"
	wait_listen "$NS_SERVER" 5001
	timeout 60 nsenter --net="$(netns_path "$NS_CLIENT")" -- \
		socat -u "OPEN:$BATS_FILE_TMPDIR/data" "TCP:$1:5001"
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
}

# tcp_transfer DST: tcp_send, carried by the fast path (data and ACKs).
tcp_transfer() {
	local r0 f0 r f
	r0=$(redirects)
	f0=$(kernel_fwd)
	tcp_send "$1"
	r=$(($(redirects) - r0))
	f=$(($(kernel_fwd) - f0))
	# Data and ACKs took the fast path: (GSO) packets redirected, the
	# kernel forwarded next to none (< 5% of them).
	((r > 300)) || fail "only $r packets redirected"
	((f * 20 < r)) || fail "kernel forwarded $f packets vs $r redirected"
}

@test "TCP: 20 MB over IPv4, sha256 matches, carried by the fast path" {
	tcp_transfer "$SERVER_IP4"
}

@test "TCP: 20 MB over IPv6, sha256 matches, carried by the fast path" {
	tcp_transfer "[$SERVER_IP6]"
}

# coalesced NS: "segments-coalesced segments-received" of NS's TCP.  A
# receiver's TCP merges an in-order segment into the skb before it in the
# receive queue (TcpExtTCPRcvCoalesce) when the payload is all in page
# frags; the fast path used to pull 8 bytes of IPv4 TCP payload into the
# linear head, and from then on nothing coalesced (0 of ~45000).
coalesced() {
	echo "$(snmp "$1" TcpExtTCPRcvCoalesce) $(snmp "$1" TcpInSegs)"
}

@test "TCP: the server's stack coalesces what the fast path delivers as it does what the kernel forwards" {
	local ip c0 s0 c1 s1 kc ks fc fs f0
	for ip in "$SERVER_IP4" "[$SERVER_IP6]"; do
		"$TCACCEL" unload --all --netns "$NS_ROUTER"
		read -r c0 s0 < <(coalesced "$NS_SERVER")
		f0=$(kernel_fwd)
		tcp_send "$ip"
		read -r c1 s1 < <(coalesced "$NS_SERVER")
		kc=$((c1 - c0)) ks=$((s1 - s0))
		(($(kernel_fwd) - f0 > 100)) || fail "the kernel forwarded only $(($(kernel_fwd) - f0)) datagrams of 20 MB"
		# a receiver that keeps up has nothing queued to coalesce into
		((kc * 100 > ks)) || skip "kernel forwarding to $ip: $kc of $ks segments coalesced, nothing to compare"
		"$TCACCEL" load all --netns "$NS_ROUTER" 2>/dev/null
		read -r c0 s0 < <(coalesced "$NS_SERVER")
		tcp_transfer "$ip"
		read -r c1 s1 < <(coalesced "$NS_SERVER")
		fc=$((c1 - c0)) fs=$((s1 - s0))
		# the defect's signature is none at all (0 of ~2000; 1 in 44000
		# with iperf3): 0.1% is far from both it and the kernel's 2-85%
		((fc * 1000 > fs)) || fail "$ip: fast path $fc of $fs segments coalesced, kernel forwarding $kc of $ks"
	done
}

@test "UDP: 2000 datagrams over IPv4 and IPv6 arrive intact on the fast path" {
	local ip r0 sent got
	for ip in "$SERVER_IP4" "$SERVER_IP6"; do
		r0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
		bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 120 "$TRAFFIC" udp-recv 5002 2000 2
		wait_listen "$NS_SERVER" 5002 udp
		sent=$(in_ns "$NS_CLIENT" "$TRAFFIC" udp-send "$ip" 5002 2000 1000)
		wait "$BG_PID"
		got=$(cat "$BATS_TEST_TMPDIR/udp.out")
		assert_equal "$got" "2000 $sent"
		assert [ $(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") - r0)) -ge 2000 ]
	done
}

# flood_paths FAMILY_DST: 1000 pings (2000 packets through the router);
# prints "redirected kernel_forwarded".
flood_paths() {
	local r0 f0
	r0=$(redirects 2>/dev/null || echo 0)
	f0=$(kernel_fwd)
	flood "$NS_CLIENT" "$1" 1000
	echo "$(($(redirects 2>/dev/null || echo 0) - r0)) $(($(kernel_fwd) - f0))"
}

@test "fast path is taken: >= 95% of packets redirected, IpForwDatagrams < 5%" {
	local r f
	read -r r f <<<"$(flood_paths "$SERVER_IP4")"
	((r >= 1900)) || fail "IPv4: only $r of 2000 packets redirected"
	((f < 100)) || fail "IPv4: kernel still forwarded $f of 2000 packets"
	read -r r f <<<"$(flood_paths "$SERVER_IP6")"
	((r >= 1900)) || fail "IPv6: only $r of 2000 packets redirected"
	((f < 100)) || fail "IPv6: kernel still forwarded $f of 2000 packets"
}

@test "after unload the kernel forwards again: IpForwDatagrams >= 95%" {
	"$TCACCEL" unload --all --netns "$NS_ROUTER"
	local f0 f
	f0=$(snmp "$NS_ROUTER" IpForwDatagrams)
	flood "$NS_CLIENT" "$SERVER_IP4" 1000
	f=$(($(snmp "$NS_ROUTER" IpForwDatagrams) - f0))
	((f >= 1900)) || fail "kernel forwarded only $f of 2000 packets"
	f0=$(snmp "$NS_ROUTER" Ip6OutForwDatagrams)
	flood "$NS_CLIENT" "$SERVER_IP6" 1000
	f=$(($(snmp "$NS_ROUTER" Ip6OutForwDatagrams) - f0))
	((f >= 1900)) || fail "kernel forwarded only $f of 2000 IPv6 packets"
}

@test "AF_PACKET frames (14 bytes linear) are pulled and take the fast path" {
	local r0 frame=$BATS_TEST_TMPDIR/frame.bin
	"$PKT" v4 --smac "$CLIENT_MAC" --dmac "$RT_CLIENT_MAC" --src "$CLIENT_IP4" \
		--dst "$SERVER_IP4" --proto udp --payload 200 >"$frame"
	r0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 30 "$TRAFFIC" udp-recv 5201 1 2
	wait_listen "$NS_SERVER" 5201 udp
	in_ns "$NS_CLIENT" "$TRAFFIC" raw-send eth0 "$frame" 200
	wait "$BG_PID"
	# The receiver got the datagram (it dedups by sequence number: one).
	run cut -d' ' -f1 "$BATS_TEST_TMPDIR/udp.out"
	assert_output 1
	assert_equal "$(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") - r0))" 200
}

@test "on the wire: TTL 1 gets ICMP time exceeded from the router (IPv4, IPv6)" {
	local t0
	t0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" TTL_EXCEEDED)
	run in_ns "$NS_CLIENT" ping -c 1 -t 1 -W 2 "$SERVER_IP4"
	assert_failure
	assert_output --partial "From $RT_CLIENT_IP4 icmp_seq=1 Time to live exceeded"
	run in_ns "$NS_CLIENT" ping -c 1 -t 1 -W 2 "$SERVER_IP6"
	assert_failure
	assert_output --partial "From $RT_CLIENT_IP6 icmp_seq=1 Time exceeded: Hop limit"
	assert_equal "$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" TTL_EXCEEDED) - t0))" 2
}

@test "on the wire: a smaller egress MTU gets fragmentation needed / packet too big" {
	local t0 frag0 reasm0
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1280
	# Without DF (and before the client learns the path MTU) the router's
	# stack fragments it and the server reassembles it.  The server then
	# drops its own 1428-byte echo reply (IpOutDiscards, with or without
	# tcaccel), so we read counters, not ping's verdict.
	frag0=$(snmp "$NS_ROUTER" IpFragCreates)
	reasm0=$(snmp "$NS_SERVER" IpReasmOKs)
	in_ns "$NS_CLIENT" ping -c 1 -M dont -s 1400 -W 1 "$SERVER_IP4" || true
	assert_equal "fragments $(($(snmp "$NS_ROUTER" IpFragCreates) - frag0))" "fragments 2"
	assert_equal "reassembled $(($(snmp "$NS_SERVER" IpReasmOKs) - reasm0))" "reassembled 1"

	t0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED)
	run in_ns "$NS_CLIENT" ping -c 1 -M "do" -s 1400 -W 2 "$SERVER_IP4"
	assert_failure
	assert_output --partial "Frag needed and DF set (mtu = 1280)"
	run in_ns "$NS_CLIENT" ping -c 1 -M "do" -s 1400 -W 2 "$SERVER_IP6"
	assert_failure
	assert_output --partial "Packet too big: mtu=1280"
	# the DF'd one plus the unfragmented IPv6 one: 1428 and 1448 bytes
	assert_equal "$(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED) - t0))" 2
}

@test "on the wire: with rp_filter strict, spoofed sources are dropped by the stack, not forwarded" {
	touch "$BATS_FILE_TMPDIR/reload"
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=1"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	local frame=$BATS_TEST_TMPDIR/spoofed.bin r0 d0
	"$PKT" v4 --smac "$CLIENT_MAC" --dmac "$RT_CLIENT_MAC" --src 198.18.2.99 \
		--dst "$SERVER_IP4" --proto udp --payload 100 >"$frame"
	r0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" RPF_FAILED)
	d0=$(snmp "$NS_ROUTER" TcpExtIPReversePathFilter)
	local arrived
	udp_count_start "$NS_SERVER" 5201
	in_ns "$NS_CLIENT" "$TRAFFIC" raw-send eth0 "$frame" 50
	udp_count_stop arrived
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=0"
	assert_equal "received $arrived" "received 0"
	assert_equal "rpf $(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" RPF_FAILED) - r0))" "rpf 50"
	assert_equal "kernel drops $(($(snmp "$NS_ROUTER" TcpExtIPReversePathFilter) - d0))" "kernel drops 50"
}
