# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Hooks for docs/runbooks/troubleshoot.md (see tests/lib/runbook.py): each
# section's condition is created before it and undone after it.
# shellcheck source=tests/runbooks/lib.bash
source "$ROOT/tests/runbooks/lib.bash"

# Mode redirect: the FIB_NO_NEIGH section is about it (modes that resolve
# neighbours themselves never count FIB_NO_NEIGH).
hook_setup() { RB_LOAD_MODE=redirect rb_load_all; }

# Forwarded traffic plus traffic for the router itself.
hook_before_traffic_is_not_accelerated_read_the_reasons() {
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 20
	rb_ping "$NS_CLIENT" "$RT_CLIENT_IP4" 5
}

# Pings all through the trace window (TRACE_SECONDS=5), however long
# `tcaccel trace` takes to start: they go on until the section ends (30 s
# at most).
hook_before_watch_the_decisions_live_trace() {
	timeout 30 nsenter --net="$(netns_path "$NS_CLIENT")" -- ping -q -c 300 -i 0.1 -W 1 "$SERVER_IP4" >/dev/null &
	RB_BG=$!
}

# (SIGINT: timeout passes it on, and ping ends as after -c, failing when
# no echo came back)
hook_after_watch_the_decisions_live_trace() {
	kill -INT "$RB_BG" 2>/dev/null || true
	wait "$RB_BG"
}

# The router forgets the server's MAC: the next packet is FIB_NO_NEIGH and
# the kernel resolves it with ARP.
hook_before_fib_no_neigh_the_next_hop_s_neighbour_entry_is_missing() {
	ip neigh del "$SERVER_IP4" dev "$RT_IF_SERVER"
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 1
}

hook_after_fib_no_neigh_the_next_hop_s_neighbour_entry_is_missing() {
	ip neigh replace "$SERVER_IP4" lladdr "$SERVER_MAC" dev "$RT_IF_SERVER" nud permanent
}

# A smaller MTU towards the server, and a packet that does not fit.
hook_before_fib_frag_needed_larger_than_the_egress_mtu() {
	ip link set dev "$RT_IF_SERVER" mtu 1280
	nsenter --net="$(netns_path "$NS_CLIENT")" -- ping -c 1 -W 1 -s 1400 -M "do" "$SERVER_IP4" >/dev/null 2>&1 || true
}

hook_after_fib_frag_needed_larger_than_the_egress_mtu() {
	ip link set dev "$RT_IF_SERVER" mtu 1500
}

# A forward-chain rule: load respects it by default, refuse refuses.
hook_before_netfilter_rules_on_the_forward_path_firewall_modes() {
	nft add table inet filter
	nft add chain inet filter forward '{ type filter hook forward priority 0; policy accept; }'
	nft add rule inet filter forward ip saddr 192.0.2.1 counter drop
}

hook_after_netfilter_rules_on_the_forward_path_firewall_modes() {
	[[ -n "$(rb_prog "$IFACE")" ]] || rb_fail "--firewall bypass did not load"
	nft delete table inet filter
}
