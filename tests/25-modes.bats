#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# peer, neigh and auto modes on the container node lab (diagram: netns/node),
# plus a "VM" behind a bridge on the node - a non-veth egress:
#
#   lan --- eth0 [node] veth-c1 --- c1      veth-c2 --- c2      veth-c3 --- c3
#                       br-vm --- vm-port --- eth0 [vm] 198.19.250.2
#
# Checkers that make connectivity prove the path (the kernel selftests' idea):
# - peer: a packet socket on a veth sees only what the veth itself transmits.
#   bpf_redirect_peer() puts the packet straight on the container side, so a
#   capture of the flow on the host-side veth's transmit stays empty; plain
#   bpf_redirect() fills it (tap_start/tap_count in helpers.bash count only
#   the flow: the kernel sends MLD reports of its own on a fresh veth).
# - neigh: the node's neighbour entry toward the LAN is deleted first; the
#   fast path still carries the very first packets and the entry reappears.
# - the node's IpForwDatagrams stays flat whenever the fast path claims it.

load helpers

VM_IP4=198.19.250.2
VM_IP6=2001:2:0:c0fa::2

setup_file() {
	export CONTAINERS=3
	lab_up node
	# The VM: a bridge on the node with one port to its own namespace.
	local vm
	vm=$(lab_ns vm)
	ip netns add "$vm"
	in_ns "$vm" ip link set lo up
	in_ns "$NS_NODE" ip link add br-vm address 02:ca:02:fa:00:01 type bridge
	in_ns "$NS_NODE" ip link set br-vm up
	ip -n "$NS_NODE" link add vm-port type veth peer name eth0 address 02:ca:02:fa:00:02 netns "$vm"
	in_ns "$NS_NODE" ip link set vm-port master br-vm up
	in_ns "$vm" ip link set eth0 up
	in_ns "$NS_NODE" ip addr add 198.19.250.1/24 dev br-vm
	in_ns "$NS_NODE" ip -6 addr add 2001:2:0:c0fa::1/64 dev br-vm nodad
	in_ns "$vm" ip addr add "$VM_IP4/24" dev eth0
	in_ns "$vm" ip -6 addr add "$VM_IP6/64" dev eth0 nodad
	in_ns "$vm" ip route add default via 198.19.250.1
	in_ns "$vm" ip -6 route add default via 2001:2:0:c0fa::1
	in_ns "$NS_NODE" ip neigh replace "$VM_IP4" lladdr 02:ca:02:fa:00:02 dev br-vm nud permanent
	in_ns "$NS_NODE" ip neigh replace "$VM_IP6" lladdr 02:ca:02:fa:00:02 dev br-vm nud permanent
	in_ns "$vm" ip neigh replace 198.19.250.1 lladdr 02:ca:02:fa:00:01 dev eth0 nud permanent
	in_ns "$vm" ip neigh replace 2001:2:0:c0fa::1 lladdr 02:ca:02:fa:00:01 dev eth0 nud permanent
	head -c 20M /dev/urandom >"$BATS_FILE_TMPDIR/data"
}

teardown_file() {
	lab_down
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_NODE" >/dev/null 2>&1 || true
	# Put back the lab's static neighbours toward the LAN.
	in_ns "$NS_NODE" ip neigh replace "$LAN_IP4" lladdr "$LAN_MAC" dev eth0 nud permanent
	in_ns "$NS_NODE" ip neigh replace "$LAN_IP6" lladdr "$LAN_MAC" dev eth0 nud permanent
	in_ns "$NS_NODE" tc qdisc del dev veth-c3 clsact 2>/dev/null || true
}

node_fwd() { ns_fwd "$NS_NODE"; }
ct_ip4() { printf '198.19.%d.2' "$1"; }
ct_ip6() { printf '2001:2:0:c0%02x::2' "$1"; }

# ping_ok NS DST COUNT: every ping answered, every reply with TTL 63.
ping_ok() { # NS DST COUNT
	run in_ns "$1" ping -c "$3" -i 0.1 -W 2 "$2"
	assert_success
	assert_equal "$(grep -c 'ttl=63' <<<"$output")" "$3"
}

@test "peer: LAN -> container skips the host-side veth (nothing on its transmit), PEER counts, kernel idle" {
	"$TCACCEL" load eth0 --netns "$NS_NODE" --mode peer
	local p0 f0
	p0=$(counter "$NS_NODE" eth0 PEER)
	f0=$(node_fwd)
	tap_start "$NS_NODE" veth-c1 "$ECHO_REQUESTS"
	ping_ok "$NS_LAN" "$(ct_ip4 1)" 5
	ping_ok "$NS_LAN" "$(ct_ip6 1)" 5
	local sent
	tap_stop sent
	assert_equal "veth-c1 sent $sent echo requests" "veth-c1 sent 0 echo requests"
	assert_equal "PEER +$(($(counter "$NS_NODE" eth0 PEER) - p0))" "PEER +10"
	# The replies come back through the kernel here (no program on veth-c1).
	assert_equal "kernel +$(($(node_fwd) - f0))" "kernel +10"
}

@test "the checker works: plain redirect shows on the host-side veth's transmit" {
	"$TCACCEL" load eth0 --netns "$NS_NODE" --mode redirect
	tap_start "$NS_NODE" veth-c1 "$ECHO_REQUESTS"
	ping_ok "$NS_LAN" "$(ct_ip4 1)" 5
	ping_ok "$NS_LAN" "$(ct_ip6 1)" 5
	local sent
	tap_stop sent
	assert_equal "veth-c1 sent $sent echo requests" "veth-c1 sent 10 echo requests"
}

@test "peer: 20 MB TCP LAN -> container and back, sha256 intact, nothing on the host veth's transmit" {
	"$TCACCEL" load all --netns "$NS_NODE" --mode peer
	local out=$BATS_TEST_TMPDIR/received f0 ip sent
	for ip in "$(ct_ip4 2)" "[$(ct_ip6 2)]"; do
		f0=$(node_fwd)
		tap_start "$NS_NODE" veth-c2 "tcp dst port 5001"
		bg "$(lab_ns c2)" "$BATS_TEST_TMPDIR/socat.log" timeout 60 \
			socat -u TCP6-LISTEN:5001,reuseaddr,ipv6only=0 "OPEN:$out,creat,trunc"
		wait_listen "$(lab_ns c2)" 5001
		timeout 60 nsenter --net="$(netns_path "$NS_LAN")" -- \
			socat -u "OPEN:$BATS_FILE_TMPDIR/data" "TCP:$ip:5001"
		wait "$BG_PID"
		assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
		tap_stop sent
		assert_equal "veth-c2 sent $sent segments to :5001" "veth-c2 sent 0 segments to :5001"
		assert_equal "kernel +$(($(node_fwd) - f0))" "kernel +0"
	done
	# and container -> LAN
	bg "$NS_LAN" "$BATS_TEST_TMPDIR/socat.log" timeout 60 \
		socat -u TCP-LISTEN:5002,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$NS_LAN" 5002
	timeout 60 nsenter --net="$(netns_path "$(lab_ns c2)")" -- \
		socat -u "OPEN:$BATS_FILE_TMPDIR/data" "TCP:$LAN_IP4:5002"
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
}

@test "peer-capable list: container veths yes; the uplink (root qdisc), the bridge and its port, a veth with egress filters no" {
	in_ns "$NS_NODE" tc qdisc add dev veth-c3 clsact
	in_ns "$NS_NODE" tc filter add dev veth-c3 egress pref 10 protocol ip u32 match ip dst 192.0.2.1/32 classid 1:1
	"$TCACCEL" load eth0 --netns "$NS_NODE"
	local want got
	want=$(for d in veth-c1 veth-c2; do ifindex "$NS_NODE" "$d"; done | sort -n | paste -sd' ')
	got=$(bpftool -j map dump pinned "$(pin_dir "$NS_NODE")/tcaccel_peers" | jq -r '.[].formatted.key' | sort -n | paste -sd' ')
	assert_equal "$got" "$want"
	# With veth-c3 not peer-capable, peer mode falls back to plain redirect.
	"$TCACCEL" load eth0 --netns "$NS_NODE" --mode peer
	local r0
	r0=$(counter "$NS_NODE" eth0 REDIRECT)
	tap_start "$NS_NODE" veth-c3 "$ECHO_REQUESTS"
	ping_ok "$NS_LAN" "$(ct_ip4 3)" 3
	assert_equal "REDIRECT +$(($(counter "$NS_NODE" eth0 REDIRECT) - r0))" "REDIRECT +3"
	local sent
	tap_stop sent
	assert_equal "veth-c3 sent $sent echo requests" "veth-c3 sent 3 echo requests"
}

@test "neigh: no neighbour toward the LAN, the first packets still take the fast path, the entry appears" {
	"$TCACCEL" load veth-c1 --netns "$NS_NODE" --mode neigh
	in_ns "$NS_NODE" ip neigh del "$LAN_IP4" dev eth0
	in_ns "$NS_NODE" ip neigh del "$LAN_IP6" dev eth0
	run in_ns "$NS_NODE" ip neigh show "$LAN_IP4" dev eth0
	assert_output ""
	local n0 f0
	n0=$(counter "$NS_NODE" veth-c1 NEIGH)
	f0=$(node_fwd)
	ping_ok "$(lab_ns c1)" "$LAN_IP4" 3
	ping_ok "$(lab_ns c1)" "$LAN_IP6" 3
	assert_equal "NEIGH +$(($(counter "$NS_NODE" veth-c1 NEIGH) - n0))" "NEIGH +6"
	# the requests went by bpf_redirect_neigh; the replies (no program on eth0) by the kernel
	assert_equal "kernel +$(($(node_fwd) - f0))" "kernel +6"
	# resolved by the kernel's neighbour code: REACHABLE, or (15-45 s on, a
	# slow guest) STALE and what follows it, never INCOMPLETE/FAILED
	local ip
	for ip in "$LAN_IP4" "$LAN_IP6"; do
		run in_ns "$NS_NODE" ip -j neigh show "$ip" dev eth0
		assert_equal "$(jq -r '.[0].lladdr' <<<"$output")" "$LAN_MAC"
		assert_regex "$(jq -r '.[0].state[0]' <<<"$output")" '^(REACHABLE|STALE|DELAY|PROBE)$'
	done
}

@test "auto: each kind of packet takes its branch, counted by reason" {
	"$TCACCEL" load all --netns "$NS_NODE"
	local before after
	before=$("$TCACCEL" status --netns "$NS_NODE" --format json)
	# LAN -> c1: egress veth-c1 is peer-capable: PEER on eth0.  The replies
	# c1 -> LAN leave through eth0, which has a root qdisc: REDIRECT on veth-c1.
	ping_ok "$NS_LAN" "$(ct_ip4 1)" 2
	# c1 -> c2: PEER on veth-c1, replies PEER on veth-c2.
	ping_ok "$(lab_ns c1)" "$(ct_ip4 2)" 2
	# LAN -> vm: the egress is a bridge: REDIRECT on eth0 (no drop), and
	# the replies REDIRECT on br-vm (vm-port, a bridge port, is left alone).
	ping_ok "$NS_LAN" "$VM_IP4" 2
	ping_ok "$NS_LAN" "$VM_IP6" 2
	# c3 -> LAN with the neighbour unknown: the first to the stack
	# (FIB_NO_NEIGH: it resolves the neighbour, and would send ICMP host
	# unreachable if that failed), REDIRECT once it has; replies PEER on eth0.
	in_ns "$NS_NODE" ip neigh del "$LAN_IP4" dev eth0
	ping_ok "$(lab_ns c3)" "$LAN_IP4" 1
	wait_until 30 bash -c "nsenter --net='$(netns_path "$NS_NODE")' -- ip neigh show '$LAN_IP4' dev eth0 | grep -qE 'REACHABLE|STALE|DELAY|PROBE'"
	ping_ok "$(lab_ns c3)" "$LAN_IP4" 2
	after=$("$TCACCEL" status --netns "$NS_NODE" --format json)
	delta() { # IFACE REASON
		jq -n --argjson a "$before" --argjson b "$after" --arg i "$1" --arg r "$2" '
			($b | map(select(.iface == $i))[0].counters[$r].packets)
			- ($a | map(select(.iface == $i))[0].counters[$r].packets)'
	}
	local got="" pair
	for pair in eth0:PEER eth0:REDIRECT veth-c1:REDIRECT veth-c1:PEER veth-c2:PEER \
		br-vm:REDIRECT veth-c3:FIB_NO_NEIGH veth-c3:REDIRECT veth-c3:NEIGH; do
		got+="$pair=$(delta "${pair%%:*}" "${pair#*:}") "
	done
	assert_equal "$got" "eth0:PEER=5 eth0:REDIRECT=4 veth-c1:REDIRECT=2 veth-c1:PEER=2 veth-c2:PEER=2 br-vm:REDIRECT=4 veth-c3:FIB_NO_NEIGH=1 veth-c3:REDIRECT=2 veth-c3:NEIGH=0 "
	run "$TCACCEL" status vm-port --netns "$NS_NODE" --format json
	assert_output "[]"
}

@test "load refuses a bridge port, 'all' skips it" {
	run "$TCACCEL" load vm-port --netns "$NS_NODE"
	assert_failure
	assert_output --partial "vm-port is a port of br-vm"
}
