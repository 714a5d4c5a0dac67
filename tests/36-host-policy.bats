#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The host's own policy outside netfilter's FORWARD chain stays in charge:
# other tc filters on the hook, IPsec policies, policy routing (by mark,
# source, input interface, TOS), route MTUs for GSO packets, the IPv6
# forwarding switch, neighbours that change; and the CLI cannot be turned
# against the host (names, the lock).  Router lab (netns/router):
#
#   client eth0 --- to-client [router] to-server --- eth0 server
#
# Every outcome is checked on the wire (what the far end receives), and is
# what the kernel does without tcaccel.

load helpers

TRAFFIC=$ROOT/tests/lib/traffic.py
DROP_OBJ=$ROOT/build/tests/drop_udp9999.bpf.o

setup_file() {
	lab_up router
}

teardown_file() {
	lab_down
}

teardown() {
	watch_stop
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" ip xfrm policy flush 2>/dev/null || true
	in_ns "$NS_ROUTER" ip route del "$SERVER_IP4/32" 2>/dev/null || true
	in_ns "$NS_ROUTER" ip -6 route del "$SERVER_IP6/128" 2>/dev/null || true
	# the checksum test's tunnel
	in_ns "$NS_ROUTER" ip link del vxlan0 2>/dev/null || true
	in_ns "$NS_ROUTER" ip link del ul-r 2>/dev/null || true
	in_ns "$NS_SERVER" tc qdisc del dev eth0 clsact 2>/dev/null || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_CLIENT" clsact 2>/dev/null || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_SERVER" clsact 2>/dev/null || true
}

# udp_through NS DST PORT COUNT: COUNT datagrams from the client to DST:PORT,
# received in NS; prints how many arrived.
udp_through() {
	local ns=$1 dst=$2 port=$3 n=$4 got
	udp_count_start "$ns" "$port"
	in_ns "$NS_CLIENT" "$TRAFFIC" udp-send "$dst" "$port" "$n" 64 >/dev/null
	udp_count_stop got "$n"
	echo "$got"
}

# drop_filter PREF: somebody else's filter on to-client's ingress at PREF,
# dropping UDP to port 9999.
drop_filter() {
	in_ns "$NS_ROUTER" tc qdisc replace dev "$RT_IF_CLIENT" clsact
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" ingress pref "$1" bpf da obj "$DROP_OBJ" sec tc
}

our_pref() {
	in_ns "$NS_ROUTER" tc -j filter show dev "$RT_IF_CLIENT" ingress |
		jq -r '[.[] | select(.options.prog.name? == "tcaccel_ingress") | .pref] | unique | join(" ")'
}

@test "a drop filter already on the hook keeps dropping: tcaccel attaches behind it" {
	drop_filter 10
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	assert_equal "tcaccel at pref $(our_pref)" "tcaccel at pref 49152"
	assert_equal "dropped port: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9999 50) received" "dropped port: 0 received"
	local f0
	f0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	assert_equal "other port: $(udp_through "$NS_SERVER" "$SERVER_IP4" 7000 50) received" "other port: 50 received"
	assert_equal "fast path +$(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") - f0))" "fast path +50"
}

@test "a filter added behind tcaccel still sees what tcaccel passes (UNSPEC); status warns; load moves tcaccel behind it" {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	drop_filter 60000
	# For the router itself: tcaccel passes (FIB_NOT_FWDED), the filter
	# behind it drops port 9999 and lets 7000 through.
	assert_equal "to the router :9999: $(udp_through "$NS_ROUTER" "$RT_CLIENT_IP4" 9999 20)" "to the router :9999: 0"
	assert_equal "to the router :7000: $(udp_through "$NS_ROUTER" "$RT_CLIENT_IP4" 7000 20)" "to the router :7000: 20"
	# What tcaccel forwards, the filter behind it never sees; status says so.
	assert_equal "forwarded :9999: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9999 20)" "forwarded :9999: 20"
	run "$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_output --partial "bpf pref 60000 (drop_udp9999) BEHIND tcaccel"
	run "$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER" --format json
	assert_equal "$(jq -c '.[0].hook.others | map({pref, behind})' <<<"$output")" '[{"pref":60000,"behind":true}]'
	# Loading again puts tcaccel behind it: now it drops forwarded ones too.
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	assert_equal "tcaccel at pref $(our_pref)" "tcaccel at pref 60001"
	assert_equal "forwarded :9999: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9999 20)" "forwarded :9999: 0"
	run "$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	refute_output --partial "BEHIND"
}

@test "unload removes only tcaccel's filter, wherever it sits; the others and their clsact stay" {
	drop_filter 10
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" ingress pref 60000 bpf da obj "$DROP_OBJ" sec tc
	"$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	run in_ns "$NS_ROUTER" tc -j filter show dev "$RT_IF_CLIENT" ingress
	assert_equal "$(jq -c '[.[] | select(.options) | {pref, name: .options.prog.name}]' <<<"$output")" \
		'[{"pref":10,"name":"drop_udp9999"},{"pref":60000,"name":"drop_udp9999"}]'
	assert_equal "dropped port: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9999 20) received" "dropped port: 0 received"
}

# --- IPsec ------------------------------------------------------------------------

@test "IPsec: a fwd (or out) block policy keeps blocking; other traffic stays on the fast path; the load report lists it" {
	in_ns "$NS_ROUTER" ip xfrm policy add src "$CLIENT_IP4/32" dst "$SERVER_IP4/32" proto udp dport 9999 dir fwd action block
	in_ns "$NS_ROUTER" ip xfrm policy add src "$CLIENT_IP6/128" dst "$SERVER_IP6/128" dir out action block
	run "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_success
	assert_output --partial "xfrm policy dir fwd src $CLIENT_IP4/32 dst $SERVER_IP4/32: traffic it could match stays on the stack"
	# Without tcaccel the kernel drops both; so it does with tcaccel.
	assert_equal "fwd-blocked: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9999 30)" "fwd-blocked: 0"
	run in_ns "$NS_CLIENT" ping -c 3 -i 0.1 -W 1 "$SERVER_IP6"
	assert_failure
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" XFRM_POLICY) >= 33))
	in_ns "$NS_ROUTER" ip xfrm policy flush
}

@test "IPsec: a policy added after load is honoured within seconds (watch), and its removal too" {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	watch_start "$NS_ROUTER"
	assert_equal "before: $(udp_through "$NS_SERVER" "$SERVER_IP4" 7001 20)" "before: 20"
	in_ns "$NS_ROUTER" ip xfrm policy add src 198.18.1.0/24 dst 198.18.2.0/24 dir fwd action block
	wait_until 60 bash -c "[[ \$('$TCACCEL' status '$RT_IF_CLIENT' --netns '$NS_ROUTER' -F json | jq '.[0].counters.XFRM_POLICY.packets') -gt 0 ]] || { nsenter --net='$(netns_path "$NS_CLIENT")' ping -c 1 -W 0.2 '$SERVER_IP4' >/dev/null; false; }"
	assert_equal "blocked: $(udp_through "$NS_SERVER" "$SERVER_IP4" 7001 20)" "blocked: 0"
	in_ns "$NS_ROUTER" ip xfrm policy flush
	# the watch lifts the guard: pings ride the fast path again
	wait_until 60 fast_again
	local f0
	f0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	assert_equal "after: $(udp_through "$NS_SERVER" "$SERVER_IP4" 7001 20)" "after: 20"
	(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") - f0 >= 20))
}

# fast_again: a ping from the client to the server was forwarded by tcaccel.
fast_again() {
	local f0
	f0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	in_ns "$NS_CLIENT" ping -c 1 -W 1 -q "$SERVER_IP4" >/dev/null || return 1
	(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") > f0))
}

# --- policy routing ------------------------------------------------------------------

# route_table100 ...: table 100 sends the server's subnet nowhere.
route_table100() {
	in_ns "$NS_ROUTER" ip route add unreachable 198.18.2.0/24 table 100
	in_ns "$NS_ROUTER" ip -6 route add unreachable 2001:2:0:2::/64 table 100
}

flush_rules() {
	in_ns "$NS_ROUTER" sh -c 'ip rule flush; ip rule add pref 32766 lookup main; ip rule add pref 32767 lookup default;
		ip -6 rule flush; ip -6 rule add pref 32766 lookup main; ip route flush table 100; ip -6 route flush table 100'
}

@test "policy routing by mark: a marked packet follows its fwmark rule as in the kernel; netfilter marks refuse the load" {
	route_table100
	in_ns "$NS_ROUTER" ip rule add fwmark 7 lookup 100
	in_ns "$NS_ROUTER" tc qdisc replace dev "$RT_IF_CLIENT" clsact
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" ingress pref 10 bpf da obj "$ROOT/build/tests/mark_udp9998.bpf.o" sec tc
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	# Marked (port 9998): table 100, unreachable - as without tcaccel.
	assert_equal "marked: $(udp_through "$NS_SERVER" "$SERVER_IP4" 9998 20)" "marked: 0"
	# Unmarked: the main table, on the fast path.
	local f0
	f0=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	assert_equal "unmarked: $(udp_through "$NS_SERVER" "$SERVER_IP4" 7002 20)" "unmarked: 20"
	(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") - f0 >= 20))
	# A mark netfilter sets in PREROUTING would never be on a fast-path packet.
	"$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	in_ns "$NS_ROUTER" nft add table ip mangle
	in_ns "$NS_ROUTER" nft add chain ip mangle pre '{ type filter hook prerouting priority -150; }'
	in_ns "$NS_ROUTER" nft add rule ip mangle pre udp dport 9997 meta mark set 7
	run "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "policy routing by mark"
	assert_output --partial "nft ip mangle pre: sets the mark"
	in_ns "$NS_ROUTER" nft flush ruleset
	flush_rules
}

@test "ip rules by source, input interface and TOS: the fast path follows them as the kernel does" {
	route_table100
	local rule
	for rule in "from $CLIENT_IP4 lookup 100" "iif $RT_IF_CLIENT lookup 100" "tos 0x10 lookup 100"; do
		# shellcheck disable=SC2086 # the rule's words
		in_ns "$NS_ROUTER" ip rule add pref 100 $rule
		"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
		run in_ns "$NS_CLIENT" ping -c 2 -i 0.1 -W 1 -Q 0x10 "$SERVER_IP4"
		assert_failure
		if [[ "$rule" == tos* ]]; then
			# other TOS values take the main table
			run in_ns "$NS_CLIENT" ping -c 2 -i 0.1 -W 1 -Q 0x08 "$SERVER_IP4"
			assert_success
		fi
		in_ns "$NS_ROUTER" ip rule del pref 100
	done
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_UNREACHABLE) >= 6))
	local r0
	r0=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)
	run in_ns "$NS_CLIENT" ping -c 2 -i 0.1 -W 1 -Q 0x10 "$SERVER_IP4"
	assert_success
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) - r0 >= 2))
	flush_rules
}

# --- MTUs --------------------------------------------------------------------------

@test "GSO through a locked route MTU: segments are checked against the route's MTU, not only the device's" {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	# the server behind a route whose MTU is smaller than the device's
	in_ns "$NS_ROUTER" ip route add "$SERVER_IP4/32" dev "$RT_IF_SERVER" mtu lock 1300
	in_ns "$NS_ROUTER" ip -6 route add "$SERVER_IP6/128" dev "$RT_IF_SERVER" mtu lock 1300
	local fr0 tb0 got
	fr0=$(snmp "$NS_ROUTER" IpFragCreates)
	tb0=$(snmp "$NS_ROUTER" Icmp6OutPktTooBigs)
	# 3 x 1400-byte UDP segments in one GSO packet: 1428-byte IP packets.
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/udp.out" timeout 30 "$TRAFFIC" udp-recv 5202 3 2
	wait_listen "$NS_SERVER" 5202 udp
	got=$(in_ns "$NS_CLIENT" "$TRAFFIC" udp-gso-send "$SERVER_IP4" 5202 3 1400)
	wait "$BG_PID"
	# IPv4 (no DF on UDP GSO): delivered in fragments the router made
	assert_equal "$(cat "$BATS_TEST_TMPDIR/udp.out")" "3 $got"
	(($(snmp "$NS_ROUTER" IpFragCreates) - fr0 >= 6))
	udp_count_start "$NS_SERVER" 5203
	in_ns "$NS_CLIENT" "$TRAFFIC" udp-gso-send "$SERVER_IP6" 5203 3 1400 >/dev/null
	udp_count_stop got
	# IPv6: too big for the route, never fragmented by a router: dropped, PTB
	assert_equal "IPv6 delivered: $got, PTB +$(($(snmp "$NS_ROUTER" Icmp6OutPktTooBigs) - tb0))" "IPv6 delivered: 0, PTB +1"
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FRAG_NEEDED) >= 2))
	in_ns "$NS_ROUTER" ip route del "$SERVER_IP4/32"
	in_ns "$NS_ROUTER" ip -6 route del "$SERVER_IP6/128"
}

# --- forwarding switches -------------------------------------------------------------

@test "IPv6 forwarding: all.forwarding off with the device's flag on: the kernel does not forward, nor does tcaccel" {
	in_ns "$NS_ROUTER" sysctl -qw net.ipv6.conf.all.forwarding=0
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv6.conf.$RT_IF_CLIENT.forwarding=1"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	run in_ns "$NS_CLIENT" ping -c 3 -i 0.1 -W 1 "$SERVER_IP6"
	in_ns "$NS_ROUTER" sysctl -qw net.ipv6.conf.all.forwarding=1
	assert_failure
	assert_equal "$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)" 0
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" FIB_FWD_DISABLED) >= 3))
}

# --- neighbours ------------------------------------------------------------------------

@test "a neighbour whose MAC changes: the fast path finds the new one as the kernel does (STALE is probed)" {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	# The server's entry learnt, not pinned, and already STALE.
	in_ns "$NS_ROUTER" ip neigh replace "$SERVER_IP4" lladdr "$SERVER_MAC" dev "$RT_IF_SERVER" nud stale
	run in_ns "$NS_CLIENT" ping -c 2 -i 0.2 -W 1 "$SERVER_IP4"
	assert_success
	# The server gets a new MAC (it keeps its pinned entry for the router, so
	# it announces nothing): only the router's probing can find it.
	local new=02:ca:00:02:00:99
	in_ns "$NS_SERVER" ip link set eth0 address "$new"
	# Pings resume once the router re-resolved (kernel: DELAY 5 s, 3 probes).
	wait_until 30 bash -c "nsenter --net='$(netns_path "$NS_CLIENT")' ping -c 1 -W 0.5 '$SERVER_IP4' >/dev/null"
	assert_equal "$(in_ns "$NS_ROUTER" ip -j neigh show "$SERVER_IP4" dev "$RT_IF_SERVER" | jq -r '.[0].lladdr')" "$new"
	run in_ns "$NS_CLIENT" ping -c 3 -i 0.2 -W 1 "$SERVER_IP4"
	assert_success
	in_ns "$NS_SERVER" ip link set eth0 address "$SERVER_MAC"
	in_ns "$NS_ROUTER" ip neigh replace "$SERVER_IP4" lladdr "$SERVER_MAC" dev "$RT_IF_SERVER" nud permanent
}

# --- checksums ------------------------------------------------------------------------

@test "CHECKSUM_COMPLETE: a forwarded IPv6 packet's skb->csum still sums its bytes after the hop limit changed" {
	# A VXLAN tunnel into the router whose outer UDP checksum is checked in
	# software: the decapsulated packets reach vxlan0's ingress with
	# CHECKSUM_COMPLETE, as from a NIC that sums every frame.
	local tun inner=$BATS_TEST_TMPDIR/inner.bin outer=$BATS_TEST_TMPDIR/outer.bin
	tun=$(lab_ns tun)
	ip netns add "$tun"
	in_ns "$tun" ip link set lo up
	ip -n "$NS_ROUTER" link add ul-r address 02:ca:00:99:00:11 type veth peer name ul-t address 02:ca:00:99:00:12 netns "$tun"
	in_ns "$NS_ROUTER" ip link set ul-r up
	in_ns "$tun" ip link set ul-t up
	in_ns "$NS_ROUTER" ip addr add 198.18.99.1/24 dev ul-r
	in_ns "$NS_ROUTER" ip link add vxlan0 address 02:ca:00:99:00:01 type vxlan id 42 \
		local 198.18.99.1 remote 198.18.99.2 dstport 4789 dev ul-r
	in_ns "$NS_ROUTER" ip link set vxlan0 up
	in_ns "$NS_ROUTER" ip -6 addr add 2001:2:0:99::1/64 dev vxlan0 nodad
	# The checker on the server: COMPLETE frames, and whether skb->csum matches.
	local pins=$TCACCEL_BPFFS/csumtest
	mkdir -p "$pins"
	in_ns "$NS_SERVER" tc qdisc add dev eth0 clsact
	TC_BPF_MNT=$pins in_ns "$NS_SERVER" tc filter add dev eth0 ingress pref 1 bpf da \
		obj "$ROOT/build/tests/csum_check.bpf.o" sec tc
	stats() { bpftool -j map dump pinned "$pins/tc/globals/csum_check_stats" | jq -r '[.[].formatted.value] | join(" ")'; }
	"$PKT" v6 --smac 02:ca:00:99:00:02 --dmac 02:ca:00:99:00:01 --src 2001:2:0:99::2 --dst "$SERVER_IP6" \
		--proto udp --payload 56 >"$inner"
	"$PKT" vxlan 02:ca:00:99:00:12 02:ca:00:99:00:11 198.18.99.2 198.18.99.1 42 "$inner" >"$outer"
	# The kernel's forwarding drops COMPLETE (skb_forward_csum()).
	in_ns "$tun" "$ROOT/tests/lib/traffic.py" raw-send ul-t "$outer" 10
	wait_until 30 bash -c "[[ \$(bpftool -j map dump pinned '$pins/tc/globals/csum_check_stats' | jq '.[0].formatted.value') -ge 10 ]]"
	assert_equal "kernel: $(stats)" "kernel: 10 0 0 0"
	# tcaccel keeps COMPLETE, and the sum right.
	"$TCACCEL" load vxlan0 --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	in_ns "$tun" "$ROOT/tests/lib/traffic.py" raw-send ul-t "$outer" 10
	wait_until 30 bash -c "[[ \$(bpftool -j map dump pinned '$pins/tc/globals/csum_check_stats' | jq '.[0].formatted.value') -ge 20 ]]"
	assert_equal "tcaccel: $(stats)" "tcaccel: 20 10 10 0"
	assert_equal "$(counter "$NS_ROUTER" vxlan0 REDIRECT)" 10
	rm -rf "$pins"
}

# --- the CLI cannot be turned against the host -----------------------------------------

@test "names: --netns and interface names that are not plain names are refused everywhere; nothing is removed" {
	mkdir -p "$TCACCEL_BPFFS/tc/keepme"
	local bad
	for bad in ../../tc ../tc . .. a/b "x y"; do
		run "$TCACCEL" unload --all --netns "$bad"
		assert_failure
		assert_output --partial "is not a network namespace name"
		run "$TCACCEL" status --netns "$bad"
		assert_failure
	done
	[[ -d "$TCACCEL_BPFFS/tc/keepme" ]]
	for bad in ../x a/b . .. "$(printf 'x%.0s' {1..16})"; do
		run "$TCACCEL" load "$bad" --netns "$NS_ROUTER"
		assert_failure
		assert_output --partial "is not an interface name"
	done
	# the service's config file too
	printf 'NETNS=../../tc\n' >"$BATS_TEST_TMPDIR/x.conf"
	run "$TCACCEL" service stop eth0 --conf "$BATS_TEST_TMPDIR/x.conf"
	assert_failure
	assert_output --partial "is not a network namespace name"
	[[ -d "$TCACCEL_BPFFS/tc/keepme" ]]
	rmdir "$TCACCEL_BPFFS/tc/keepme"
}

@test "the lock: in a root-only directory, never truncated, never through a symlink" {
	local dir=$BATS_TEST_TMPDIR/run
	TCACCEL_RUNDIR=$dir "$TCACCEL" status --netns "$NS_ROUTER" >/dev/null
	assert_equal "$(stat -c '%U %a' "$dir")" "root 700"
	local lock
	lock=$(ls "$dir"/lock.*)
	echo "keep me" >"$lock"
	TCACCEL_RUNDIR=$dir "$TCACCEL" status --netns "$NS_ROUTER" >/dev/null
	assert_equal "$(cat "$lock")" "keep me"
	rm "$lock"
	ln -s "$BATS_TEST_TMPDIR/victim" "$lock"
	run env TCACCEL_RUNDIR="$dir" "$TCACCEL" status --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "symbolic link"
	[[ ! -e "$BATS_TEST_TMPDIR/victim" ]]
	rm "$lock"
	chmod 777 "$dir"
	run env TCACCEL_RUNDIR="$dir" "$TCACCEL" status --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "must be root's alone"
}

@test "unload all is load all's twin: make unload IFACE=all unloads every interface of the netns" {
	make -s -C "$ROOT" load IFACE=all NETNS="$NS_ROUTER" 2>/dev/null
	[[ -n "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" && -n "$(our_prog "$NS_ROUTER" "$RT_IF_SERVER")" ]]
	run make -s -C "$ROOT" unload IFACE=all NETNS="$NS_ROUTER"
	assert_success
	refute_output --partial "not found"
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")$(our_prog "$NS_ROUTER" "$RT_IF_SERVER")" ""
	[[ ! -e "$(pin_root "$NS_ROUTER")" ]]
}
