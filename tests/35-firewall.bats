#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Keeping the firewall in charge (router lab): with netfilter rules on the
# forward path, `load` defaults to --firewall respect, where only flows
# conntrack has established - after the rules accepted their first packets,
# both ways - take the fast path.  Proven with rules that drop one port,
# replies dropped in FORWARD or POSTROUTING, conntrack entries deleted under
# a running flow, UDP flows with and without replies, NAT, helpers, zones,
# IPVS-shaped entries, kernels without the kfuncs, an unreadable ruleset,
# and the two other modes (bypass, refuse).  (NAT on a container node:
# tests/37-nat.bats.)

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
	in_ns "$NS_ROUTER" ip route del 198.18.2.100/32 2>/dev/null || true
	if in_ns "$NS_ROUTER" grep -q filter /proc/net/ip_tables_names 2>/dev/null; then
		in_ns "$NS_ROUTER" iptables-legacy -F
		in_ns "$NS_ROUTER" iptables-legacy -P FORWARD ACCEPT
	fi
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
kernel_fwd() { ns_fwd "$NS_ROUTER"; }
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
	local f0 k0 n0 m0 n m sent
	f0=$(fast)
	k0=$(kernel_fwd)
	n0=$(reason_sum CT_NOT_ESTABLISHED)
	m0=$(reason_sum CT_MISS)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 30 "$TRAFFIC" udp-recv 5003 200 5
	wait_listen "$NS_SERVER" 5003 udp
	sent=$(in_ns "$NS_CLIENT" "$TRAFFIC" udp-send "$SERVER_IP4" 5003 200 100)
	wait "$BG_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/udp.out")" "200 $sent"
	# The first datagram CT_MISS (no entry yet), the others
	# CT_NOT_ESTABLISHED (one the other CPU handled before the first's entry
	# was confirmed at POSTROUTING is a CT_MISS too); all by the kernel.
	n=$(($(reason_sum CT_NOT_ESTABLISHED) - n0))
	m=$(($(reason_sum CT_MISS) - m0))
	assert_equal "fast +$(($(fast) - f0)) new or unanswered +$((m + n)) kernel +$(($(kernel_fwd) - k0))" \
		"fast +0 new or unanswered +200 kernel +200"
	((m >= 1 && n >= 190)) || fail "CT_MISS +$m, CT_NOT_ESTABLISHED +$n"

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
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5005 5 40005 0 1 1
	assert_output 0
	(($(reason_sum CT_MISS) - m0 >= 5))
}

@test "NATed flows ride the fast path translated as conntrack decided (NAT_*), and keep working" {
	in_ns "$NS_ROUTER" iptables -t nat -A POSTROUTING -o "$RT_IF_SERVER" -j MASQUERADE
	load_router
	local f0 k0
	f0=$(fast)
	k0=$(kernel_fwd)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/echo.log" timeout 60 "$TRAFFIC" udp-echo 5006 40
	wait_listen "$NS_SERVER" 5006 udp
	run in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" 5006 50 40006
	assert_output 50
	# The first request and reply teach conntrack (and the labels); the
	# other 49 each way are translated on the fast path.
	assert_equal "fast +$(($(fast) - f0)) kernel +$(($(kernel_fwd) - k0))" "fast +98 kernel +2"
	(($(reason_sum NAT_PEER) >= 98))
	run in_ns "$NS_ROUTER" conntrack -L -p udp --orig-port-dst 5006
	assert_output --partial "src=$SERVER_IP4 dst=$RT_SERVER_IP4"
}

# udp_from NS SPORT DST PORT COUNT: COUNT datagrams from NS's SPORT, 2 ms apart.
udp_from() {
	in_ns "$1" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
for i in range(int(sys.argv[4])):
    s.sendto(i.to_bytes(4, "big") + bytes(28), (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.002)' "$2" "$3" "$4" "$5"
}

# udp_replies PORT SPORT: one request from the client's SPORT to an echo
# server on PORT, then 50 more in a burst; prints how many echoes of the
# burst reached the client.  The first reply has passed the router's
# PREROUTING (conntrack's SEEN_REPLY) before the burst starts, so what the
# burst's packets count does not depend on how long that first round trip
# takes (a busy guest's would leave the first dozen requests unanswered).
udp_replies() {
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/echo.$1.log" timeout 60 "$TRAFFIC" udp-echo "$1" 10
	wait_listen "$NS_SERVER" "$1" udp
	in_ns "$NS_CLIENT" "$TRAFFIC" udp-ping "$SERVER_IP4" "$1" 1 "$2" 0 1 1 >/dev/null
	wait_until 30 seen_reply "$2" || fail "conntrack never saw a reply from port $1"
	in_ns "$NS_CLIENT" "$TRAFFIC" udp-burst "$SERVER_IP4" "$1" 50 "$2"
}

# seen_reply SPORT: the router's conntrack has seen a reply of the client's
# UDP flow from SPORT (its entry is no longer [UNREPLIED]).
seen_reply() {
	local out
	out=$(in_ns "$NS_ROUTER" conntrack -L -p udp --orig-port-src "$1" 2>/dev/null) || return 1
	[[ -n "$out" && "$out" != *UNREPLIED* ]]
}

@test "respect: replies the rules drop stay dropped (FORWARD policy drop, a POSTROUTING drop); accepted both ways, the fast path" {
	in_ns "$NS_ROUTER" iptables -P FORWARD DROP
	in_ns "$NS_ROUTER" iptables -A FORWARD -i "$RT_IF_CLIENT" -o "$RT_IF_SERVER" -j ACCEPT
	load_router
	local f0 k0 n0
	f0=$(fast)
	n0=$(reason_sum CT_NOT_ACCEPTED)
	# Conntrack saw the first reply at PREROUTING (SEEN_REPLY) before FORWARD
	# dropped it; the labels say the reply direction was never accepted.
	run udp_replies 5007 40007
	assert_output 0
	(($(reason_sum CT_NOT_ACCEPTED) - n0 >= 90))
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
	# Accept the replies too: the next flow is on the fast path both ways.
	in_ns "$NS_ROUTER" iptables -A FORWARD -i "$RT_IF_SERVER" -o "$RT_IF_CLIENT" -j ACCEPT
	f0=$(fast)
	k0=$(kernel_fwd)
	run udp_replies 5008 40008
	assert_output 50
	local f=$(($(fast) - f0)) k=$(($(kernel_fwd) - k0))
	((f >= 90 && k <= 10)) || fail "fast $f, kernel $k"
	# A drop at POSTROUTING, after FORWARD accepted: not accepted either.
	in_ns "$NS_ROUTER" nft -f - <<-EOF
		table inet late {
			chain post {
				type filter hook postrouting priority 0; policy accept;
				oifname "$RT_IF_CLIENT" udp sport 5009 drop
			}
		}
	EOF
	f0=$(fast)
	n0=$(reason_sum CT_NOT_ACCEPTED)
	run udp_replies 5009 40009
	assert_output 0
	(($(reason_sum CT_NOT_ACCEPTED) - n0 >= 45))
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
	# The kfuncs got the 12-byte options every kernel from 6.0 accepts
	# (6.1 takes no other size; 6.10+ take 12 and 16).
	local id calls
	id=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	calls=$(bpftool prog dump xlated id "$id" | grep -B3 'call bpf_skb_ct_lookup' | grep -c 'r5 = 12$' || true)
	((calls >= 2)) || fail "opts__sz: $(bpftool prog dump xlated id "$id" | grep -B3 'call bpf_skb_ct_lookup' | grep 'r5 =')"
	run bpftool btf dump file "$ROOT/build/tcaccel.bpf.o"
	assert_output --partial "STRUCT 'bpf_ct_opts' size=12 "
}

@test "respect: a flow with a conntrack helper (ftp) or in a zone stays on the stack (CT_HELPER, CT_ZONE)" {
	in_ns "$NS_ROUTER" iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
	# A zone on the original direction only: the reply's lookup in the
	# default zone still finds the entry.
	in_ns "$NS_ROUTER" iptables -t raw -A PREROUTING -i "$RT_IF_CLIENT" -p udp --dport 5010 -j CT --zone-orig 7
	load_router
	local out=$BATS_TEST_TMPDIR/received f0 k0
	f0=$(fast)
	k0=$(kernel_fwd)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/ftp.log" timeout 30 socat -u TCP-LISTEN:21,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$NS_SERVER" 21
	head -c 2M "$BATS_FILE_TMPDIR/data" | in_ns "$NS_CLIENT" timeout 20 socat -u - "TCP:$SERVER_IP4:21"
	wait "$BG_PID"
	assert_equal "$(wc -c <"$out")" 2097152
	(($(reason_sum CT_HELPER) > 10))
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
	(($(kernel_fwd) - k0 > 10))
	run udp_replies 5010 40010
	assert_output 50
	(($(reason_sum CT_ZONE) >= 45))
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
}

@test "no conntrack kfuncs in the kernel: respect is refused, a plain load uses the object without the gate" {
	mkdir -p "$BATS_TEST_TMPDIR/btf"
	: >"$BATS_TEST_TMPDIR/btf/vmlinux"
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	run env TCACCEL_BTF_DIR="$BATS_TEST_TMPDIR/btf" "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "no conntrack kfuncs"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	in_ns "$NS_ROUTER" iptables -F FORWARD
	TCACCEL_BTF_DIR="$BATS_TEST_TMPDIR/btf" load_router
	run bpftool prog dump xlated id "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")"
	refute_output --partial "bpf_skb_ct_lookup"
	flood "$NS_CLIENT" "$SERVER_IP4" 50
	(($(fast) >= 90))
}

@test "an unreadable ruleset fails closed: load refuses unless told what to do" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/nft" <<-EOF
		#!/bin/sh
		case "\$*" in *"-j list ruleset"*) echo "netlink: Error: cache initialization failed" >&2; exit 1 ;; esac
		exec $(command -v nft) "\$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/nft"
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "cannot read the nftables ruleset"
	assert_output --partial "cache initialization failed"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --firewall respect
	assert_success
	assert_output --partial "firewall respect"
}

@test "IPVS: its services count as rules (respect by default, bypass refused); an IPVS-shaped entry stays on the stack (CT_TUPLE)" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	# What ipvsadm -Ln prints with one LVS-NAT service (the kernel here has no IPVS).
	cat >"$BATS_TEST_TMPDIR/bin/ipvsadm" <<-'EOF'
		#!/bin/sh
		printf 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n'
		printf '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
		printf 'UDP  198.18.2.100:5011 rr\n  -> 198.18.2.2:5011              Masq    1      0          0\n'
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/ipvsadm"
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --firewall bypass
	assert_failure
	assert_output --partial "IPVS has virtual services"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run load_router
	assert_success
	assert_output --partial "ipvs: 1 virtual service(s)"
	assert_output --partial "firewall respect"
	# IPVS with conntrack=1: the entry of client -> VIP has the real
	# server's reply tuple and no NAT bits; IPVS, not nf_nat, rewrites the
	# replies.  Made here with ctnetlink, labelled by real packets both ways.
	in_ns "$NS_ROUTER" ip route add 198.18.2.100/32 via "$SERVER_IP4"
	in_ns "$NS_ROUTER" conntrack -I -p udp -s "$CLIENT_IP4" -d 198.18.2.100 --sport 40011 --dport 5011 \
		-r "$SERVER_IP4" -q "$CLIENT_IP4" --reply-port-src 5011 --reply-port-dst 40011 \
		-t 60 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
	udp_from "$NS_CLIENT" 40011 198.18.2.100 5011 3
	local f0
	f0=$(fast)
	bg "$NS_CLIENT" "$BATS_TEST_TMPDIR/recv.log" timeout 60 "$TRAFFIC" udp-recv 40011 40 30
	wait_listen "$NS_CLIENT" 40011 udp
	udp_from "$NS_SERVER" 5011 "$CLIENT_IP4" 40011 40
	wait "$BG_PID"
	run cat "$BATS_TEST_TMPDIR/recv.log"
	assert_output --regexp "^40 "
	(($(reason_sum CT_TUPLE) >= 35))
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
}

@test "respect: iptables-legacy's FORWARD runs before tcaccel's chains too: replies it drops stay dropped" {
	# legacy x_tables hook at NF_IP_PRI_FILTER (0), tcaccel's chain at the last priority
	in_ns "$NS_ROUTER" iptables-legacy -P FORWARD DROP
	in_ns "$NS_ROUTER" iptables-legacy -A FORWARD -i "$RT_IF_CLIENT" -o "$RT_IF_SERVER" -j ACCEPT
	run load_router
	assert_success
	assert_output --partial "iptables-legacy -t filter: -P FORWARD DROP"
	local f0
	f0=$(fast)
	run udp_replies 5012 40012
	assert_output 0
	assert_equal "fast +$(($(fast) - f0))" "fast +0"
	(($(reason_sum CT_NOT_ACCEPTED) >= 45))
}

@test "respect refuses a ruleset that uses tcaccel's conntrack labels" {
	in_ns "$NS_ROUTER" nft -f - <<-EOF
		table inet mine {
			chain f {
				type filter hook forward priority 0; policy accept;
				ct label set 126
			}
		}
	EOF
	run load_router
	assert_failure
	assert_output --partial "uses conntrack labels 124-127"
	assert_output --partial "nft inet mine f: a rule uses ct label 126"
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
