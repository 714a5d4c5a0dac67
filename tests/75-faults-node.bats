#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection in the container node lab (diagram: netns/node): tcaccel
# on the uplink and on every container's veth, loaded from several shells
# at once, then a container's netns deleted under traffic.  As in
# 70-faults.bats: bounded traffic (paced TCP stream + ping every 5 ms) runs
# through each fault, and afterwards everything is still correct and
# nothing stale is left.

load helpers
load lib/reliability

setup_file() {
	export CONTAINERS=3
	lab_up node
	local k
	for k in 1 2 3; do
		lab_quiet "$(lab_ns "c$k")"
	done
	lab_quiet "$NS_LAN"
}

teardown_file() {
	lab_down
}

teardown() {
	if [[ -n "${TRAFFIC_PIDS:-}" ]]; then
		kill "${TRAFFIC_PIDS[@]}" 2>/dev/null || true
		wait "${TRAFFIC_PIDS[@]}" 2>/dev/null || true
	fi
}

NODE_IFS=(eth0 veth-c1 veth-c2 veth-c3)

redirected() {
	reason_packets "$NS_NODE" "$FAST"
}

# node_state: "iface:slot" of every configured interface, sorted by name.
node_state() {
	"$TCACCEL" status --netns "$NS_NODE" -F json 2>/dev/null |
		jq -r '[.[] | select(.slot != 0) | "\(.iface // "?"):\(.slot)"] | sort | join(" ")'
}

@test "node fault: uplink and three container veths loaded from four shells at once, traffic flowing" {
	"$TCACCEL" unload --all --netns "$NS_NODE" >/dev/null 2>&1
	traffic_start "$NS_LAN" 198.19.2.2 "$(lab_ns c2)"
	local dev pids=() p
	for dev in "${NODE_IFS[@]}"; do
		"$TCACCEL" load "$dev" --netns "$NS_NODE" 2>/dev/null &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	moved_by 200 redirected
	traffic_stop
	assert_traffic_ok 2
	# four interfaces, four different slots, one filter and one config each
	run node_state
	assert_output --regexp '^eth0:[1-4] veth-c1:[1-4] veth-c2:[1-4] veth-c3:[1-4]$'
	assert_equal "$(tr ' ' '\n' <<<"$output" | cut -d: -f2 | sort -u | wc -l)" 4
	for dev in "${NODE_IFS[@]}"; do
		assert_equal "$dev filters: $(filters "$NS_NODE" "$dev")" "$dev filters: 1"
	done
	assert_equal "cfg entries: $(bpftool -j map dump pinned "$(pin_dir "$NS_NODE")/tcaccel_cfg" | jq length)" "cfg entries: 4"
}

@test "node fault: a container's netns deleted under traffic: the others carry on, its config is forgotten" {
	ensure_loaded "$NS_NODE" "${NODE_IFS[@]}"
	local slot1 gone r0
	slot1=$(iface_slot "$NS_NODE" veth-c1)
	gone=$(ifindex "$NS_NODE" veth-c1)
	traffic_start "$NS_LAN" 198.19.2.2 "$(lab_ns c2)"
	moved_by 200 redirected
	# c1 goes away with its veth pair (and tcaccel's filter on veth-c1)
	ip netns del "$(lab_ns c1)"
	wait_until 30 bash -c "! nsenter --net=$(netns_path "$NS_NODE") ip link show veth-c1 >/dev/null 2>&1"
	moved_by 300 redirected
	traffic_stop
	assert_traffic_ok 2
	# status drops the dead veth's config (status_ns); the rest is intact
	run node_state
	assert_output --regexp '^eth0:[1-4] veth-c2:[1-4] veth-c3:[1-4]$'
	# shellcheck disable=SC2046 # the key's bytes as words
	run bpftool -j map lookup pinned "$(pin_dir "$NS_NODE")/tcaccel_cfg" key hex $(u32_hex "$gone")
	assert_failure
	# a new container 1 gets the freed slot, with counters from zero, and
	# the fast path
	LAB=$LAB CONTAINERS=3 bash -c 'source "$1" && node_add_container 1' _ "$ROOT/netns/node"
	lab_quiet "$(lab_ns c1)"
	"$TCACCEL" load veth-c1 --netns "$NS_NODE" 2>/dev/null
	assert_equal "slot $(iface_slot "$NS_NODE" veth-c1)" "slot $slot1"
	assert_equal "$(reason_packets "$NS_NODE" "$FAST" veth-c1)" 0
	r0=$(reason_packets "$NS_NODE" "$FAST" eth0)
	flood "$NS_LAN" 198.19.1.2 20
	assert_equal "uplink +$(($(reason_packets "$NS_NODE" "$FAST" eth0) - r0)) c1 +$(reason_packets "$NS_NODE" "$FAST" veth-c1)" \
		"uplink +20 c1 +20"
}
