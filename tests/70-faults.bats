#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection in the router lab (diagram: netns/router), each with
# bounded traffic running - a paced TCP stream checksummed at both ends and
# a ping every 5 ms, client -> server - and each followed by "still
# correct, nothing stale": the stream arrived whole, no more pings lost than
# were in flight, the fast path carries the traffic again (or the kernel
# does, where it must), and tcaccel's filters, config entries and pins are
# exactly those of the interfaces that carry it.

load helpers
load lib/reliability

setup_file() {
	lab_up router
	lab_quiet "$NS_CLIENT" "$NS_SERVER"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null
}

teardown_file() {
	lab_down
}

teardown() {
	if [[ -n "${TRAFFIC_PIDS:-}" ]]; then
		kill "${TRAFFIC_PIDS[@]}" 2>/dev/null || true
		wait "${TRAFFIC_PIDS[@]}" 2>/dev/null || true
	fi
	in_ns "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1500
	in_ns "$NS_ROUTER" ip link del to-server2 2>/dev/null || true
	in_ns "$NS_ROUTER" ip route del 198.18.70.1/32 2>/dev/null || true
	in_ns "$NS_SERVER" ip addr del 198.18.70.1/32 dev lo 2>/dev/null || true
	lab_lib link_neigh "$NS_SERVER" eth0 "$SERVER_MAC" "$SERVER_IP4" "$SERVER_IP6" \
		"$NS_ROUTER" "$RT_IF_SERVER" "$RT_SERVER_MAC" "$RT_SERVER_IP4" "$RT_SERVER_IP6"
	in_ns "$NS_CLIENT" ip route flush cache
	# every test starts with tcaccel on both router interfaces
	ensure_loaded "$NS_ROUTER" "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

redirected() { # fast-path packets on every configured router interface (0 when not loaded)
	reason_packets "$NS_ROUTER" "$FAST"
}

# count IFACE REASON: that counter of IFACE, for polling
count() {
	reason_packets "$NS_ROUTER" "$2" "$1"
}

rx_packets() { # NS DEV
	in_ns "$1" ip -j -s link show dev "$2" | jq '.[0].stats64.rx.packets'
}

kernel_fwd() {
	ns_fwd "$NS_ROUTER"
}

# assert_nothing_stale IFACE...: exactly these interfaces carry tcaccel:
# one filter each, a config entry each (no other entry), status lists them.
assert_nothing_stale() {
	local want got dev
	want=$(printf '%s\n' "$@" | sort | paste -sd' ')
	got=$("$TCACCEL" status --netns "$NS_ROUTER" --format json |
		jq -r '[.[] | select(.slot != 0) | .iface // "?"] | sort | join(" ")')
	assert_equal "status lists: $got" "status lists: $want"
	# every config entry belongs to a live interface that carries the program
	run bpftool -j map dump pinned "$(pin_dir "$NS_ROUTER")/tcaccel_cfg"
	assert_equal "cfg entries: $(jq length <<<"$output")" "cfg entries: $#"
	for dev in "$@"; do
		assert_equal "$dev filters: $(filters "$NS_ROUTER" "$dev")" "$dev filters: 1"
	done
}

@test "fault: the object reloaded on both interfaces with traffic flowing" {
	local r0 f0 c0 s0 slots0 slots1
	slots0=$("$TCACCEL" status --netns "$NS_ROUTER" -F json | jq -c '[.[] | select(.iface) | [.iface, .slot]]')
	c0=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	s0=$(our_prog "$NS_ROUTER" "$RT_IF_SERVER")
	r0=$(redirected)
	f0=$(kernel_fwd)
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	moved_by 100 redirected
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null
	moved_by 100 redirected
	traffic_stop
	assert_traffic_ok 2
	# new programs really took over
	[[ "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" != "$c0" && "$(our_prog "$NS_ROUTER" "$RT_IF_SERVER")" != "$s0" ]]
	# the fast path carried it throughout; the kernel forwarded next to nothing
	local r=$(($(redirected) - r0)) f=$(($(kernel_fwd) - f0))
	((r > 400)) || fail "only $r packets redirected"
	((f * 20 < r)) || fail "kernel forwarded $f packets vs $r redirected"
	# same slots (counters kept across reloads), nothing stale
	slots1=$("$TCACCEL" status --netns "$NS_ROUTER" -F json | jq -c '[.[] | select(.iface) | [.iface, .slot]]')
	assert_equal "$slots1" "$slots0"
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

@test "fault: unload while traffic flows: the kernel takes over, nothing left behind" {
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	"$TCACCEL" unload --all --netns "$NS_ROUTER"
	moved_by 200 kernel_fwd
	traffic_stop
	assert_traffic_ok 2
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT") $(filters "$NS_ROUTER" "$RT_IF_SERVER")" "0 0"
	run has_clsact "$NS_ROUTER" "$RT_IF_CLIENT"
	assert_failure
	[[ ! -e "$(pin_root "$NS_ROUTER")" ]] || fail "pins left in $(pin_root "$NS_ROUTER")"
	run "$TCACCEL" status --netns "$NS_ROUTER"
	assert_output "tcaccel is not loaded in netns $NS_ROUTER"
}

@test "fault: route changed mid-flow: the fast path follows the FIB at once" {
	# A second link router <-> server, and an address on the server that
	# is reached over eth0 first, then over the new link.
	lab_lib veth "$NS_ROUTER" to-server2 02:ca:00:03:00:01 "$NS_SERVER" eth1 02:ca:00:03:00:02
	lab_lib addr "$NS_ROUTER" to-server2 198.18.3.1/24 2001:2:0:3::1/64
	lab_lib addr "$NS_SERVER" eth1 198.18.3.2/24 2001:2:0:3::2/64
	lab_lib neigh "$NS_ROUTER" to-server2 198.18.3.2 02:ca:00:03:00:02
	in_ns "$NS_SERVER" ip addr add 198.18.70.1/32 dev lo
	in_ns "$NS_ROUTER" ip route add 198.18.70.1/32 via "$SERVER_IP4"

	local rx1 f0 r0
	traffic_start "$NS_CLIENT" 198.18.70.1 "$NS_SERVER"
	moved_by 200 redirected
	rx1=$(rx_packets "$NS_SERVER" eth1)
	f0=$(kernel_fwd)
	r0=$(redirected)
	in_ns "$NS_ROUTER" ip route replace 198.18.70.1/32 via 198.18.3.2 dev to-server2
	moved_by 300 rx_packets "$NS_SERVER" eth1
	traffic_stop
	assert_traffic_ok 2
	# the new path carried it (>= 300 packets on eth1), on the fast path
	(($(rx_packets "$NS_SERVER" eth1) - rx1 >= 300))
	local r=$(($(redirected) - r0)) f=$(($(kernel_fwd) - f0))
	((r >= 300)) || fail "only $r packets redirected after the change"
	((f * 20 < r)) || fail "kernel forwarded $f packets vs $r redirected after the change"
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

@test "fault: neighbour table flushed mid-flow: the stack resolves it, the fast path goes on with the new entry" {
	# Dynamic neighbours on the server side (the lab's are permanent).
	in_ns "$NS_ROUTER" ip neigh del "$SERVER_IP4" dev "$RT_IF_SERVER"
	in_ns "$NS_ROUTER" ip neigh del "$SERVER_IP6" dev "$RT_IF_SERVER"
	local n0
	n0=$(count "$RT_IF_CLIENT" FIB_NO_NEIGH)
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	for _ in 1 2 3; do
		in_ns "$NS_ROUTER" ip neigh flush dev "$RT_IF_SERVER"
		moved_by 100 redirected
	done
	traffic_stop
	assert_traffic_ok 3
	# some packets met the empty table: MODE=auto handed them to the
	# stack, which resolved the entry, and the fast path went on with it
	(($(count "$RT_IF_CLIENT" FIB_NO_NEIGH) > n0))
	run in_ns "$NS_ROUTER" ip neigh show "$SERVER_IP4" dev "$RT_IF_SERVER"
	assert_output --regexp "lladdr $SERVER_MAC (REACHABLE|STALE|DELAY|PROBE)"
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

@test "fault: egress MTU lowered mid-flow: PMTU errors reach the sender, the stream adapts" {
	local fn0 icmp0
	fn0=$(count "$RT_IF_CLIENT" FIB_FRAG_NEEDED)
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	icmp0=$(snmp "$NS_CLIENT" IcmpInDestUnreachs)
	in_ns "$NS_ROUTER" ip link set "$RT_IF_SERVER" mtu 1280
	wait_until 30 _moved_at_least $((icmp0 + 1)) snmp "$NS_CLIENT" IcmpInDestUnreachs
	moved_by 300 redirected
	traffic_stop
	assert_traffic_ok 2
	(($(count "$RT_IF_CLIENT" FIB_FRAG_NEEDED) > fn0))
	(($(snmp "$NS_CLIENT" IcmpInDestUnreachs) > icmp0))
	run in_ns "$NS_CLIENT" ip route get "$SERVER_IP4"
	assert_output --partial "mtu 1280"
}

@test "fault: ip_forward switched off mid-flow: the fast path stops forwarding too" {
	local s0 r0 d0
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	in_ns "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	moved_by 20 count "$RT_IF_CLIENT" FIB_FWD_DISABLED
	# from here on nothing gets through, neither way
	s0=$(snmp "$NS_SERVER" IpInReceives)
	r0=$(redirected)
	d0=$(count "$RT_IF_CLIENT" FIB_FWD_DISABLED)
	moved_by 100 count "$RT_IF_CLIENT" FIB_FWD_DISABLED
	assert_equal "server received +$(($(snmp "$NS_SERVER" IpInReceives) - s0)), redirected +$(($(redirected) - r0))" \
		"server received +0, redirected +0"
	in_ns "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	moved_by 200 redirected
	traffic_stop
	# TCP retransmitted what was dropped; the pings sent meanwhile are lost
	assert_traffic_ok "$PING_SENT"
	(($(count "$RT_IF_CLIENT" FIB_FWD_DISABLED) - d0 >= 100))
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

@test "fault: stale pins of an older incompatible build present at load, traffic flowing" {
	# An older build (other map sizes) was loaded, then its filter removed
	# by hand: its pins stay behind, used by nobody.
	local old=$BATS_TEST_TMPDIR/old.bpf.o
	"$TCACCEL" unload --all --netns "$NS_ROUTER" 2>/dev/null
	make -s -C "$ROOT" OUTPUT="$BATS_TEST_TMPDIR" BPF_EXTRA=-DTCACCEL_MAX_IFACES=128 "$BATS_TEST_TMPDIR/tcaccel.bpf.o" >/dev/null
	mv "$BATS_TEST_TMPDIR/tcaccel.bpf.o" "$old"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --obj "$old" 2>/dev/null
	in_ns "$NS_ROUTER" tc filter del dev "$RT_IF_CLIENT" ingress
	assert_equal "$(bpftool -j map show pinned "$(pin_dir "$NS_ROUTER")/tcaccel_stats" | jq .max_entries)" 128

	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 kernel_fwd
	run "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_success
	assert_output --partial "replacing stale pinned maps"
	moved_by 300 redirected
	traffic_stop
	assert_traffic_ok 2
	assert_equal "$(bpftool -j map show pinned "$(pin_dir "$NS_ROUTER")/tcaccel_stats" | jq .max_entries)" 256
	assert_nothing_stale "$RT_IF_CLIENT"
}

@test "fault: load from two shells at once: serialised by the lock, both end up loaded" {
	local lock=$BATS_TEST_TMPDIR/tcaccel.lock fd pid a b
	"$TCACCEL" unload --all --netns "$NS_ROUTER" 2>/dev/null
	# While another tcaccel command holds the lock, load waits for it.
	exec {fd}>"$lock"
	flock "$fd"
	# (without our descriptor: an inherited copy would hold the lock for it)
	TCACCEL_LOCK=$lock "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null {fd}>&- &
	pid=$!
	wait_until 30 pgrep -P "$pid" -x flock >/dev/null
	assert_equal "waiting: $(filters "$NS_ROUTER" "$RT_IF_CLIENT")" "waiting: 0"
	exec {fd}>&-
	wait "$pid"
	assert_equal "after: $(filters "$NS_ROUTER" "$RT_IF_CLIENT")" "after: 1"
	"$TCACCEL" unload --all --netns "$NS_ROUTER" 2>/dev/null

	# Two loads at once, with traffic: two interfaces, two slots, one
	# filter each.
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	TCACCEL_LOCK=$lock "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null &
	a=$!
	TCACCEL_LOCK=$lock "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null &
	b=$!
	wait "$a"
	wait "$b"
	assert_equal "slots: $("$TCACCEL" status --netns "$NS_ROUTER" -F json |
		jq -c '[.[] | select(.iface) | .slot] | sort')" "slots: [1,2]"
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
	moved_by 200 redirected
	traffic_stop
	assert_traffic_ok 2
}

@test "fault: egress interface deleted and re-created (new ifindex): fast path follows, old config forgotten" {
	local old_idx new_idx r0 f0
	old_idx=$(ifindex "$NS_ROUTER" "$RT_IF_SERVER")
	traffic_start "$NS_CLIENT" "$SERVER_IP4" "$NS_SERVER"
	moved_by 200 redirected
	# the link to the server goes away (and its tc filter with it) ...
	in_ns "$NS_ROUTER" ip link del "$RT_IF_SERVER"
	# ... and comes back: same names, addresses and MACs, new ifindexes
	lab_lib veth "$NS_SERVER" eth0 "$SERVER_MAC" "$NS_ROUTER" "$RT_IF_SERVER" "$RT_SERVER_MAC"
	lab_lib addr "$NS_SERVER" eth0 "$SERVER_IP4/24" "$SERVER_IP6/64"
	lab_lib addr "$NS_ROUTER" "$RT_IF_SERVER" "$RT_SERVER_IP4/24" "$RT_SERVER_IP6/64"
	in_ns "$NS_SERVER" ip route add default via "$RT_SERVER_IP4"
	in_ns "$NS_SERVER" ip -6 route add default via "$RT_SERVER_IP6"
	lab_lib link_neigh "$NS_SERVER" eth0 "$SERVER_MAC" "$SERVER_IP4" "$SERVER_IP6" \
		"$NS_ROUTER" "$RT_IF_SERVER" "$RT_SERVER_MAC" "$RT_SERVER_IP4" "$RT_SERVER_IP6"
	lab_quiet "$NS_SERVER"
	new_idx=$(ifindex "$NS_ROUTER" "$RT_IF_SERVER")
	[[ "$new_idx" != "$old_idx" ]]
	# Requests: still the fast path on to-client, now out of the new device.
	# Replies: the new to-server has no filter (it died with the old one),
	# so the kernel forwards them until `load` again.
	f0=$(kernel_fwd)
	moved_by 300 count "$RT_IF_CLIENT" "$FAST"
	(($(kernel_fwd) - f0 >= 100))
	traffic_stop
	# the pings sent while the link was down are lost; the stream is whole
	assert_traffic_ok "$PING_SENT"
	# status forgets the vanished interface's config (and frees its slot)
	local js
	js=$("$TCACCEL" status --netns "$NS_ROUTER" -F json 2>"$BATS_TEST_TMPDIR/status.err")
	assert_equal "$(jq -c '[.[] | select(.slot != 0) | [.iface, .ifindex]]' <<<"$js")" \
		"[[\"$RT_IF_CLIENT\",$(ifindex "$NS_ROUTER" "$RT_IF_CLIENT")]]"
	run cat "$BATS_TEST_TMPDIR/status.err"
	assert_output --partial "dropped the config of vanished interface(s) (ifindex $old_idx)"
	assert_nothing_stale "$RT_IF_CLIENT"
	# load again: a fresh slot, both directions on the fast path
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null
	assert_equal "$(count "$RT_IF_SERVER" "$FAST")" 0
	r0=$(redirected)
	f0=$(kernel_fwd)
	flood "$NS_CLIENT" "$SERVER_IP4" 50
	assert_equal "redirected +$(($(redirected) - r0)) kernel +$(($(kernel_fwd) - f0))" "redirected +100 kernel +0"
	assert_nothing_stale "$RT_IF_CLIENT" "$RT_IF_SERVER"
}
