#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Keeping the firewall in charge (router lab): with netfilter rules on the
# forward path, `load` defaults to --firewall respect, where only flows
# conntrack has established - after the rules accepted their first packets -
# take the fast path.  Proven with rules that drop one port, conntrack
# entries deleted under a running flow, UDP flows with and without replies,
# NAT, and the two other modes (bypass, refuse).

load helpers

TRAFFIC=$ROOT/tests/lib/traffic.py

setup_file() {
	lab_up router
	head -c 20M /dev/urandom >"$BATS_FILE_TMPDIR/data"
}

teardown_file() {
	lab_down
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" nft flush ruleset
	in_ns "$NS_ROUTER" conntrack -F >/dev/null 2>&1 || true
}

load_router() { # [OPTION...]
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" "$@"
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" "$@"
}

fast() { # forwarded by tcaccel, both interfaces, any mode
	echo $(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") + $(forwarded "$NS_ROUTER" "$RT_IF_SERVER")))
}
kernel_fwd() { echo $(($(snmp "$NS_ROUTER" IpForwDatagrams) + $(snmp "$NS_ROUTER" Ip6OutForwDatagrams))); }
reason_sum() { # REASON: both interfaces
	echo $(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" "$1") + $(counter "$NS_ROUTER" "$RT_IF_SERVER" "$1")))
}

# blocked_and_open DST: a listener on 5201 the rules drop, and a 20 MB
# transfer to 5001 that works and, after its handshake, rides the fast path.
blocked_and_open() {
	local dst=$1 out=$BATS_TEST_TMPDIR/received f0 k0
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/blocked.log" timeout 20 \
		socat -u TCP6-LISTEN:5201,reuseaddr,ipv6only=0 OPEN:/dev/null
	wait_listen "$NS_SERVER" 5201
	run in_ns "$NS_CLIENT" timeout 10 socat -u OPEN:/dev/null "TCP:$dst:5201,connect-timeout=2"
	assert_failure
	kill "$BG_PID" 2>/dev/null || true

	f0=$(fast)
	k0=$(kernel_fwd)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/open.log" timeout 60 \
		socat -u TCP6-LISTEN:5001,reuseaddr,ipv6only=0 "OPEN:$out,creat,trunc"
	wait_listen "$NS_SERVER" 5001
	timeout 60 nsenter --net="$(netns_path "$NS_CLIENT")" -- \
		socat -u "OPEN:$BATS_FILE_TMPDIR/data" "TCP:$dst:5001"
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
	local f=$(($(fast) - f0)) k=$(($(kernel_fwd) - k0))
	((f > 300)) || fail "only $f packets on the fast path"
	((k * 20 < f)) || fail "the kernel forwarded $k packets, the fast path $f"
	# conntrack followed the connection to its end (no 5-day ESTABLISHED
	# left behind), and saw no INVALID packet on the way.
	run in_ns "$NS_ROUTER" conntrack -L -p tcp --dport 5001
	assert_output --regexp "(TIME_WAIT|CLOSE)"
	refute_output --partial "ESTABLISHED"
}

@test "respect (default with rules): iptables drops port 5201, 5001 works and rides the fast path" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	in_ns "$NS_ROUTER" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
	run load_router
	assert_success
	assert_output --partial "firewall mode respect"
	blocked_and_open "$SERVER_IP4"
	run in_ns "$NS_ROUTER" iptables -L FORWARD -v -n -x
	assert_line --regexp "^ +0 +0 DROP .*ctstate INVALID"
	# the handshake and the teardown went through conntrack
	(($(reason_sum CT_TCP_CTRL) > 0))
}

@test "respect over IPv6: ip6tables drops port 5201, 5001 works and rides the fast path" {
	in_ns "$NS_ROUTER" ip6tables -A FORWARD -p tcp --dport 5201 -j DROP
	in_ns "$NS_ROUTER" ip6tables -A FORWARD -m conntrack --ctstate INVALID -j DROP
	load_router
	blocked_and_open "[$SERVER_IP6]"
}

@test "respect with an nftables ruleset (inet forward chain)" {
	in_ns "$NS_ROUTER" nft -f - <<-EOF
		table inet fw {
			chain forward {
				type filter hook forward priority 0; policy accept;
				ct state invalid drop
				tcp dport 5201 drop
			}
		}
	EOF
	load_router
	blocked_and_open "$SERVER_IP4"
}

@test "a stateless ruleset: respect turns conntrack on itself, unload turns it off again" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	run in_ns "$NS_ROUTER" nft list table inet tcaccel
	assert_failure
	assert_equal "$(in_ns "$NS_ROUTER" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)" 0
	load_router
	in_ns "$NS_ROUTER" nft list table inet tcaccel
	assert_equal "$(in_ns "$NS_ROUTER" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)" 1
	run "$TCACCEL" status --netns "$NS_ROUTER" --format json
	assert_equal "$(jq -r 'map(select(.iface)) | map("\(.firewall) \(.conntrack_tracking)") | unique | join(",")' <<<"$output")" "respect true"
	run "$TCACCEL" status --netns "$NS_ROUTER"
	assert_output --partial "firewall respect"
	# Tracking works: without it every lookup would miss and nothing would
	# be accelerated.
	blocked_and_open "$SERVER_IP4"
	"$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	in_ns "$NS_ROUTER" nft list table inet tcaccel # still used by to-server
	"$TCACCEL" unload "$RT_IF_SERVER" --netns "$NS_ROUTER"
	run in_ns "$NS_ROUTER" nft list table inet tcaccel
	assert_failure
	assert_equal "$(in_ns "$NS_ROUTER" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)" 0
}

@test "UDP without replies stays on the slow path; once replies flow it moves to the fast path" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	load_router
	local f0 k0 n0 sent
	f0=$(fast)
	k0=$(kernel_fwd)
	n0=$(reason_sum CT_NOT_ESTABLISHED)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 30 "$TRAFFIC" udp-recv 5003 200 5
	wait_listen "$NS_SERVER" 5003 udp
	sent=$(in_ns "$NS_CLIENT" "$TRAFFIC" udp-send "$SERVER_IP4" 5003 200 100)
	wait "$BG_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/udp.out")" "200 $sent"
	# first datagram CT_MISS, the other 199 CT_NOT_ESTABLISHED; all by the kernel
	assert_equal "fast +$(($(fast) - f0)) unanswered +$(($(reason_sum CT_NOT_ESTABLISHED) - n0)) kernel +$(($(kernel_fwd) - k0))" \
		"fast +0 unanswered +199 kernel +200"

	f0=$(fast)
	k0=$(kernel_fwd)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/echo.log" timeout 60 "$TRAFFIC" udp-echo 5004 40
	wait_listen "$NS_SERVER" 5004 udp
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5004 200 40004
	assert_output 200
	# the first request and the first reply teach conntrack; 398 ride the fast path
	assert_equal "fast +$(($(fast) - f0)) kernel +$(($(kernel_fwd) - k0))" "fast +398 kernel +2"
}

@test "deleting the conntrack entry sends the next packets back through the rules" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	load_router
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/echo.log" timeout 90 "$TRAFFIC" udp-echo 5005 40
	wait_listen "$NS_SERVER" 5005 udp
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5005 20 40005
	assert_output 20
	# A new rule does not touch an established flow on the fast path (the
	# documented trade-off: rules are checked when a flow is set up)...
	in_ns "$NS_ROUTER" iptables -I FORWARD -p udp --dport 5005 -j DROP
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5005 20 40005
	assert_output 20
	# ...until its conntrack entry goes: then the next packet meets the rules.
	local m0
	m0=$(reason_sum CT_MISS)
	in_ns "$NS_ROUTER" conntrack -D -p udp --orig-port-dst 5005
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5005 5 40005
	assert_output 0
	(($(reason_sum CT_MISS) - m0 >= 5))
}

@test "NATed flows are left to the stack (CT_NAT) and keep working" {
	in_ns "$NS_ROUTER" iptables -t nat -A POSTROUTING -o "$RT_IF_SERVER" -j MASQUERADE
	load_router
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/echo.log" timeout 60 "$TRAFFIC" udp-echo 5006 40
	wait_listen "$NS_SERVER" 5006 udp
	local f0 n0
	f0=$(fast)
	n0=$(reason_sum CT_NAT)
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5006 50 40006
	assert_output 50
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
	# Requests: CT_NAT once the flow is established.  (The replies are
	# addressed to the router itself before de-NAT: FIB_NOT_FWDED.)
	(($(reason_sum CT_NAT) - n0 >= 45))
	run in_ns "$NS_ROUTER" conntrack -L -p udp --orig-port-dst 5006
	assert_output --partial "src=$SERVER_IP4 dst=$RT_SERVER_IP4"
}

@test "bypass: loads with a loud warning and skips the rules; refuse refuses" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	run load_router --firewall refuse
	assert_failure
	assert_output --partial "refusing to load (--firewall refuse)"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	run load_router --firewall bypass
	assert_success
	assert_output --partial "BYPASS"
	run "$TCACCEL" status --netns "$NS_ROUTER"
	assert_output --partial "firewall BYPASSED"
	# The DROP rule no longer applies: the connection goes through.
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/bypass.log" timeout 20 \
		socat -u TCP-LISTEN:5201,reuseaddr OPEN:/dev/null
	wait_listen "$NS_SERVER" 5201
	run in_ns "$NS_CLIENT" timeout 10 socat -u OPEN:/dev/null "TCP:$SERVER_IP4:5201,connect-timeout=2"
	assert_success
	run in_ns "$NS_ROUTER" nft list table inet tcaccel
	assert_failure
}
