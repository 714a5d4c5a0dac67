#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# scripts/tcaccel as a sysadmin meets it: idempotent load/unload, clear
# errors, the firewall guard, stale pins, status and trace.  Router lab.
# tests/run: serial (trace_pipe)

load helpers

setup_file() {
	lab_up router
}

teardown_file() {
	lab_down
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_CLIENT" clsact 2>/dev/null || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_SERVER" clsact 2>/dev/null || true
	in_ns "$NS_ROUTER" nft flush ruleset 2>/dev/null || true
	in_ns "$NS_ROUTER" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
	rm -rf -- "$(pin_root "$NS_ROUTER")"
}

# load_client [OPTION...]: load on the router's client side.
load_client() {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" "$@"
}

@test "load twice: one filter, replaced in place; status lists the interface once" {
	run load_client
	assert_success
	assert_output --partial "loaded on $RT_IF_CLIENT"
	local id1 id2
	id1=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	run load_client
	assert_success
	id2=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 1
	[[ -n "$id1" && -n "$id2" && "$id1" != "$id2" ]]
	run "$TCACCEL" status --netns "$NS_ROUTER" --format json
	assert_success
	# (a slot-0 row may appear: packets that arrived between attach and config)
	assert_equal "$(jq 'map(select(.iface)) | length' <<<"$output")" 1
	assert_equal "$(jq -r 'map(select(.iface))[0].prog_id' <<<"$output")" "$id2"
}

@test "reload keeps the interface's counters; unload twice is fine and leaves no pins" {
	load_client
	flood "$NS_CLIENT" "$SERVER_IP4" 20
	local before
	before=$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")
	((before >= 20))
	load_client
	assert_equal "$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")" "$before"
	run "$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_success
	assert_output --partial "unloaded from $RT_IF_CLIENT"
	run "$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_success
	assert_output --partial "not loaded on $RT_IF_CLIENT"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	run has_clsact "$NS_ROUTER" "$RT_IF_CLIENT"
	assert_failure
	[[ ! -e "$(pin_root "$NS_ROUTER")" ]]
}

@test "pins stay while another interface uses them, go with the last one" {
	load_client
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	"$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	[[ -e "$(pin_dir "$NS_ROUTER")/tcaccel_stats" ]]
	"$TCACCEL" unload "$RT_IF_SERVER" --netns "$NS_ROUTER"
	[[ ! -e "$(pin_root "$NS_ROUTER")" ]]
}

@test "unload leaves a foreign filter and its clsact alone" {
	in_ns "$NS_ROUTER" tc qdisc add dev "$RT_IF_CLIENT" clsact
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" ingress pref 10 protocol ip \
		u32 match ip dst 192.0.2.1/32 classid 1:1
	load_client
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 2
	"$TCACCEL" unload "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 1
	run in_ns "$NS_ROUTER" tc -j filter show dev "$RT_IF_CLIENT" ingress
	assert_output --partial '"kind":"u32"'
	has_clsact "$NS_ROUTER" "$RT_IF_CLIENT"
}

@test "load refuses to replace a foreign filter at the preference TCACCEL_PREF asks for" {
	in_ns "$NS_ROUTER" tc qdisc add dev "$RT_IF_CLIENT" clsact
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" ingress pref 1 protocol ip \
		u32 match ip dst 192.0.2.1/32 classid 1:1
	TCACCEL_PREF=1 run load_client
	assert_failure
	assert_output --partial "foreign filter"
	assert_output --partial "TCACCEL_PREF"
	run in_ns "$NS_ROUTER" tc -j filter show dev "$RT_IF_CLIENT" ingress
	assert_output --partial '"kind":"u32"'
}

@test "errors: missing device, missing netns, unknown mode, no object, non-Ethernet device" {
	run "$TCACCEL" load nosuchdev0 --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "device 'nosuchdev0' not found"
	run "$TCACCEL" load eth0 --netns "${LAB}-nosuchns"
	assert_failure
	assert_output --partial "network namespace '${LAB}-nosuchns' not found"
	run load_client --mode warp
	assert_failure
	assert_output --partial "--mode must be one of: redirect, peer, neigh, auto (got 'warp')"
	run load_client --obj "$BATS_TEST_TMPDIR/none.bpf.o"
	assert_failure
	assert_output --partial "not built"
	run "$TCACCEL" load lo --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "not an Ethernet device"
	run "$TCACCEL" load
	assert_failure
	assert_output --partial "which interface?"
}

@test "errors: not root" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "must run as root"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
}

@test "firewall guard: an iptables FORWARD rule: refuse refuses, FORCE bypasses, the default respects" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	run load_client --firewall refuse
	assert_failure
	assert_output --partial "refusing to load"
	assert_output --partial "FORWARD: hook forward, policy accept, 1 rule(s)"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	run load_client --force
	assert_success
	assert_output --partial "BYPASS"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 1
	run load_client
	assert_success
	assert_output --partial "firewall mode respect"
	assert_output --partial "mode auto, firewall respect"
}

@test "firewall guard: ip6tables, nft drop policy and NAT on the forward path count too" {
	in_ns "$NS_ROUTER" ip6tables -A FORWARD -p udp --dport 53 -j ACCEPT
	run load_client --firewall refuse
	assert_failure
	assert_output --partial "nft ip6 filter FORWARD"
	in_ns "$NS_ROUTER" nft flush ruleset
	in_ns "$NS_ROUTER" nft add table inet fw
	in_ns "$NS_ROUTER" nft add chain inet fw forward_drop '{ type filter hook forward priority 0; policy drop; }'
	run load_client --firewall refuse
	assert_failure
	assert_output --partial "nft inet fw forward_drop: hook forward, policy drop, 0 rule(s)"
	in_ns "$NS_ROUTER" nft flush ruleset
	in_ns "$NS_ROUTER" iptables -t nat -A POSTROUTING -o "$RT_IF_SERVER" -j MASQUERADE
	run load_client --firewall refuse
	assert_failure
	assert_output --partial "POSTROUTING: hook postrouting"
}

@test "firewall guard: empty chains with ACCEPT policy are no reason to refuse" {
	in_ns "$NS_ROUTER" iptables -P FORWARD ACCEPT
	in_ns "$NS_ROUTER" iptables -A INPUT -p tcp --dport 22 -j ACCEPT
	run load_client
	assert_success
}

@test "load warns when forwarding is off" {
	in_ns "$NS_ROUTER" sysctl -qw net.ipv4.conf.all.forwarding=0
	run load_client
	assert_success
	assert_output --partial "IPv4 forwarding is off on $RT_IF_CLIENT"
}

@test "an incompatible stale pin nobody uses is replaced" {
	local dir
	dir=$(pin_dir "$NS_ROUTER")
	mkdir -p "$dir"
	bpftool map create "$dir/tcaccel_cfg" type hash key 4 value 8 entries 4 name tcaccel_cfg
	run load_client
	assert_success
	assert_output --partial "replacing stale pinned maps"
	assert_equal "$(bpftool -j map show pinned "$dir/tcaccel_cfg" | jq .bytes_value)" 32
}

@test "an incompatible pin still used by another interface: clear error, nothing changed" {
	# An "older build": same maps, different sizes.
	local old=$BATS_TEST_TMPDIR/tcaccel.bpf.o
	make -s -C "$ROOT" OUTPUT="$BATS_TEST_TMPDIR" BPF_EXTRA=-DTCACCEL_MAX_IFACES=128 "$old" >/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --obj "$old"
	run load_client
	assert_failure
	assert_output --partial "still used by: $RT_IF_SERVER"
	assert_output --partial "unload --all --netns $NS_ROUTER"
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 0
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_SERVER" | wc -l)" 1
}

@test "status: json for machines, a table for people, filters by interface" {
	load_client
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	flood "$NS_CLIENT" "$SERVER_IP4" 10
	run "$TCACCEL" status --netns "$NS_ROUTER" --format json
	assert_success
	jq -e --arg ns "$NS_ROUTER" --arg i "$RT_IF_CLIENT" '
		(map(select(.iface != null)) | length == 2)
		and (map(select(.iface == $i))[0] | .netns == $ns and .attached and .enabled
			and .mode == "auto" and (.prog_id | type) == "number"
			and .counters.PEER.packets >= 10 and (.counters | has("FIB_NO_NEIGH")))' <<<"$output"
	run "$TCACCEL" status "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_success
	assert_line --regexp "^$NS_ROUTER  $RT_IF_SERVER  ifindex [0-9]+  prog [0-9]+  mode auto$"
	assert_line --regexp "^    PEER +[0-9]+ pkts  [0-9]+ bytes$"
	refute_output --partial "$RT_IF_CLIENT"
	# Without --netns: every namespace with pins (other test files' labs
	# may have some too: tests/run runs files side by side).
	run "$TCACCEL" status --format json
	assert_equal "$(jq --arg ns "$NS_ROUTER" 'map(select(.iface != null and .netns == $ns)) | length' <<<"$output")" 2
}

@test "trace: debug on while tracing, decisions printed, debug off afterwards" {
	load_client
	# Traffic until the trace has ended, so some of it falls inside the
	# window however long tracing takes to start (trace_pipe is global:
	# other readers on a busy machine may take lines too).  Bounded: 600
	# pings at most.
	local stop=$BATS_TEST_TMPDIR/trace.done
	(for _ in $(seq 600); do
		[[ -e "$stop" ]] && break
		in_ns "$NS_CLIENT" ping -c 1 -W 1 "$SERVER_IP4" >/dev/null || true
		sleep 0.1
	done) &
	local pinger=$!
	run "$TCACCEL" trace "$RT_IF_CLIENT" --netns "$NS_ROUTER" --duration 4
	touch "$stop"
	wait "$pinger"
	assert_success
	assert_output --regexp "tcaccel: if=[0-9]+ len=[0-9]+ PEER egress=[0-9]+"
	assert_equal "$("$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER" -F json | jq '.[0].debug')" false
}

@test "unload for a netns that is gone removes its stale pins" {
	local dir=$TCACCEL_PIN_BASE/ns/${LAB}-gone
	mkdir -p "$dir"
	run "$TCACCEL" unload --all --netns "${LAB}-gone"
	assert_success
	assert_output --partial "removed its stale pins"
	[[ ! -e "$dir" ]]
}

@test "--help on every command" {
	local c
	for c in load unload status trace; do
		run "$TCACCEL" "$c" --help
		assert_success
		assert_output --partial "Usage: tcaccel $c"
	done
	run "$TCACCEL" --help
	assert_success
	assert_output --partial "Commands:"
	run "$TCACCEL"
	assert_failure 2
	run "$TCACCEL" frobnicate
	assert_failure
	assert_output --partial "unknown command"
}

@test "a new interface on a stale config entry's ifindex starts with zeroed counters" {
	load_client
	flood "$NS_CLIENT" "$SERVER_IP4" 10
	(($(forwarded "$NS_ROUTER" "$RT_IF_CLIENT") >= 10))
	# The device goes (tc filter and all), its config entry stays behind...
	local idx
	idx=$(ifindex "$NS_ROUTER" "$RT_IF_CLIENT")
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_CLIENT" clsact
	run "$TCACCEL" status --netns "$NS_ROUTER" --format json
	assert_equal "$(jq --argjson i "$idx" 'map(select(.ifindex == $i))[0].attached' <<<"$output")" false
	# ...and a load on the same ifindex is a fresh start, not a reload.
	load_client
	assert_equal "$(forwarded "$NS_ROUTER" "$RT_IF_CLIENT")" 0
}
