#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# What load decided from a snapshot, kept in step by `tcaccel watch` on a
# container node (netns/node, 3 containers):
#
#   lan --- eth0 [node] veth-c1 --- c1      veth-c2 --- c2      veth-c3 --- c3
#
# - a qdisc added to a container's veth after load (the Kubernetes bandwidth
#   plugin adds a tbf): bpf_redirect_peer() would skip it; within seconds
#   the packets cross it, as they do without tcaccel;
# - a loaded veth enslaved to a bridge, or moved to another netns: no longer
#   accelerated, and never a target of bpf_redirect_peer().

load helpers

setup_file() {
	export CONTAINERS=3
	lab_up node
}

teardown_file() {
	lab_down
}

teardown() {
	watch_stop
	"$TCACCEL" unload --all --netns "$NS_NODE" >/dev/null 2>&1 || true
	in_ns "$NS_NODE" tc qdisc del dev veth-c1 root 2>/dev/null || true
}

ct_ip4() { printf '198.19.%d.2' "$1"; }
peers() { bpftool -j map dump pinned "$(pin_dir "$NS_NODE")/tcaccel_peers" | jq -r '[.[].formatted.key] | sort | join(" ")'; }
peer_listed() { [[ " $(peers) " == *" $1 "* ]]; }
peer_gone() { ! peer_listed "$1"; }
not_loaded() { [[ -z "$(our_prog "$NS_NODE" "$1")" ]]; }
cfg_gone() { ! bpftool -j map dump pinned "$(pin_dir "$NS_NODE")/tcaccel_cfg" | jq -e --argjson i "$1" 'any(.[]; .formatted.key == $i)' >/dev/null; }
tbf_packets() { in_ns "$NS_NODE" tc -s -j qdisc show dev veth-c1 | jq '[.[] | select(.kind == "tbf") | .packets] | add // 0'; }

@test "a qdisc added to a container's veth after load: within seconds its packets cross it; removed, PEER again" {
	"$TCACCEL" load all --netns "$NS_NODE" 2>/dev/null
	watch_start "$NS_NODE"
	local c1 sent
	c1=$(ifindex "$NS_NODE" veth-c1)
	peer_listed "$c1"
	in_ns "$NS_NODE" tc qdisc add dev veth-c1 root tbf rate 100mbit burst 64k latency 100ms
	wait_until 60 peer_gone "$c1"
	# What the kernel does without tcaccel: every packet to c1 through the tbf.
	run in_ns "$NS_LAN" ping -c 5 -i 0.1 -W 1 "$(ct_ip4 1)"
	assert_success
	(($(tbf_packets) >= 5))
	tap_start "$NS_NODE" veth-c1 "$ECHO_REQUESTS"
	in_ns "$NS_LAN" ping -c 3 -i 0.1 -W 1 -q "$(ct_ip4 1)" >/dev/null
	tap_stop sent
	assert_equal "through veth-c1's transmit: $sent" "through veth-c1's transmit: 3"
	in_ns "$NS_NODE" tc qdisc del dev veth-c1 root
	wait_until 60 peer_listed "$c1"
	local p0
	p0=$(counter "$NS_NODE" eth0 PEER)
	in_ns "$NS_LAN" ping -c 3 -i 0.1 -W 1 -q "$(ct_ip4 1)" >/dev/null
	(($(counter "$NS_NODE" eth0 PEER) - p0 >= 3))
}

@test "a loaded veth enslaved to a bridge later: unloaded and out of the peer list within seconds" {
	"$TCACCEL" load all --netns "$NS_NODE" 2>/dev/null
	watch_start "$NS_NODE"
	local c2
	c2=$(ifindex "$NS_NODE" veth-c2)
	[[ -n "$(our_prog "$NS_NODE" veth-c2)" ]]
	in_ns "$NS_NODE" ip link add br-late type bridge
	in_ns "$NS_NODE" ip link set veth-c2 master br-late
	wait_until 60 not_loaded veth-c2
	wait_until 60 peer_gone "$c2"
	grep -q "veth-c2 (netns $NS_NODE) is now a port of br-late" "$BATS_TEST_TMPDIR/watch.log"
	run "$TCACCEL" status veth-c2 --netns "$NS_NODE" -F json
	assert_output "[]"
	in_ns "$NS_NODE" ip link set veth-c2 nomaster
	in_ns "$NS_NODE" ip link del br-late
}

@test "a loaded veth moved to another netns: its config and peer entry go within seconds" {
	"$TCACCEL" load all --netns "$NS_NODE" 2>/dev/null
	watch_start "$NS_NODE"
	local c3 away
	c3=$(ifindex "$NS_NODE" veth-c3)
	away=$(lab_ns away)
	ip netns add "$away"
	in_ns "$NS_NODE" ip link set veth-c3 netns "$away"
	wait_until 60 peer_gone "$c3"
	wait_until 60 cfg_gone "$c3"
	ip netns del "$away" # (the last test: c3 stays without its veth)
}
