#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The container node lab (diagram: netns/node) with tcaccel on the node's
# uplink eth0 and on every container's host-side veth, in redirect mode:
# LAN <-> containers and container <-> container on the fast path.

load helpers

setup_file() {
	export CONTAINERS=3
	lab_up node
	local dev
	for dev in "$NODE_UPLINK" veth-c1 veth-c2 veth-c3; do
		"$TCACCEL" load "$dev" --netns "$NS_NODE" 2>/dev/null
	done
}

teardown_file() {
	lab_down
}

node_fwd() {
	ns_fwd "$NS_NODE"
}

@test "node lab: LAN -> containers, IPv4 and IPv6, TTL 63, uplink on the fast path" {
	local r0 f0 k ip
	r0=$(forwarded "$NS_NODE" "$NODE_UPLINK")
	f0=$(node_fwd)
	for k in 1 2 3; do
		for ip in "198.19.$k.2" "$(printf '2001:2:0:c0%02x::2' "$k")"; do
			run in_ns "$NS_LAN" ping -c 2 -i 0.2 -W 2 "$ip"
			assert_success
			assert_equal "$(grep -c 'ttl=63' <<<"$output")" 2
		done
	done
	assert_equal "uplink +$(($(forwarded "$NS_NODE" "$NODE_UPLINK") - r0)) kernel +$(($(node_fwd) - f0))" \
		"uplink +12 kernel +0"
}

@test "node lab: containers reach the LAN and each other on the fast path" {
	local r0 f0
	r0=$(forwarded "$NS_NODE" veth-c1)
	f0=$(node_fwd)
	run in_ns "$(lab_ns c1)" ping -c 2 -i 0.2 -W 2 "$LAN_IP4"
	assert_success
	run in_ns "$(lab_ns c1)" ping -c 2 -i 0.2 -W 2 198.19.2.2
	assert_success
	assert_equal "$(grep -c 'ttl=63' <<<"$output")" 2
	run in_ns "$(lab_ns c1)" ping -c 2 -i 0.2 -W 2 2001:2:0:c003::2
	assert_success
	assert_equal "c1 +$(($(forwarded "$NS_NODE" veth-c1) - r0)) kernel +$(($(node_fwd) - f0))" \
		"c1 +6 kernel +0"
}

@test "node lab: 20 MB LAN -> container over TCP, sha256 matches" {
	local out=$BATS_TEST_TMPDIR/received r0
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	r0=$(forwarded "$NS_NODE" "$NODE_UPLINK")
	bg "$(lab_ns c2)" "$BATS_TEST_TMPDIR/socat.log" timeout 60 \
		socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$(lab_ns c2)" 5001
	timeout 60 nsenter --net="$(netns_path "$NS_LAN")" -- \
		socat -u "OPEN:$BATS_TEST_TMPDIR/data" TCP:198.19.2.2:5001
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_TEST_TMPDIR/data")"
	(($(forwarded "$NS_NODE" "$NODE_UPLINK") - r0 > 300))
}

@test "status shows every node interface with its own counters" {
	run "$TCACCEL" status --netns "$NS_NODE" --format json
	assert_success
	assert_equal "$(jq -r '[.[] | select(.iface) | .iface] | sort | join(" ")' <<<"$output")" \
		"eth0 veth-c1 veth-c2 veth-c3"
	assert_equal "$(jq '[.[] | select(.iface) | .slot] | unique | length' <<<"$output")" 4
}
