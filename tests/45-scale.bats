#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# A node with 20 containers (netns/node, CONTAINERS=20), the whole node
# loaded in one command (`load all`, mode auto): every container reachable
# from the LAN over IPv4 and IPv6 on the fast path, each interface with its
# own counters.

load helpers

N=20

setup_file() {
	export CONTAINERS=$N
	lab_up node
}

teardown_file() {
	lab_down
}

node_fwd() { ns_fwd "$NS_NODE"; }

@test "load all: $N containers + uplink attached in one command, $N peer-capable veths" {
	run "$TCACCEL" load all --netns "$NS_NODE"
	assert_success
	assert_equal "$(grep -c 'loaded on' <<<"$output")" $((N + 1))
	run "$TCACCEL" status --netns "$NS_NODE" --format json
	assert_equal "$(jq '[.[] | select(.iface and .attached and .mode == "auto")] | length' <<<"$output")" $((N + 1))
	assert_equal "$(jq '[.[] | select(.iface) | .slot] | unique | length' <<<"$output")" $((N + 1))
	assert_equal "$(bpftool -j map dump pinned "$(pin_dir "$NS_NODE")/tcaccel_peers" | jq length)" "$N"
}

@test "LAN -> every one of $N containers, IPv4 and IPv6: PEER in, REDIRECT out, kernel idle" {
	local before after k f0
	before=$("$TCACCEL" status --netns "$NS_NODE" --format json)
	f0=$(node_fwd)
	for ((k = 1; k <= N; k++)); do
		run in_ns "$NS_LAN" ping -c 1 -W 2 "198.19.$k.2"
		assert_output --partial "ttl=63"
		run in_ns "$NS_LAN" ping -c 1 -W 2 "$(printf '2001:2:0:c0%02x::2' "$k")"
		assert_output --partial "ttl=63"
	done
	after=$("$TCACCEL" status --netns "$NS_NODE" --format json)
	sum() { # JSON REASON [uplink|containers]
		jq --arg r "$2" --arg w "$3" '[.[] | select(.iface)
			| select(if $w == "uplink" then .iface == "eth0" else .iface != "eth0" end)
			| .counters[$r].packets] | add' <<<"$1"
	}
	assert_equal "uplink PEER +$(($(sum "$after" PEER uplink) - $(sum "$before" PEER uplink)))" "uplink PEER +$((2 * N))"
	assert_equal "containers REDIRECT +$(($(sum "$after" REDIRECT containers) - $(sum "$before" REDIRECT containers)))" \
		"containers REDIRECT +$((2 * N))"
	assert_equal "kernel +$(($(node_fwd) - f0))" "kernel +0"
}

@test "unload --all leaves nothing: no filter, no clsact, no pins" {
	"$TCACCEL" unload --all --netns "$NS_NODE"
	run in_ns "$NS_NODE" tc -j qdisc show
	assert_equal "$(jq '[.[] | select(.kind == "clsact")] | length' <<<"$output")" 0
	[[ ! -e "$(pin_root "$NS_NODE")" ]]
}
