# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# netns/lib.sh - building blocks for the lab topologies (netns/router,
# netns/node).  Sourced, never run.
#
# Everything lives in network namespaces named "$LAB-<role>": nothing here
# touches the namespace the command runs in, its interfaces or its routes.
# Flakiness is removed before it can happen: DAD off (nodad), static
# neighbour entries on every link, fixed MAC addresses.

[[ -n "${TCACCEL_NETNS_LIB:-}" ]] && return 0
readonly TCACCEL_NETNS_LIB=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/../scripts/lib/common.sh"

# The lab's name: the prefix of every namespace it creates.
: "${LAB:=tca}"
[[ "$LAB" =~ ^[a-z][a-z0-9]{0,7}$ ]] ||
	die "LAB='$LAB': use 1-8 lowercase letters/digits, starting with a letter"

lab_ns() { printf '%s-%s' "$LAB" "$1"; }

# Every namespace of this lab that exists now.
lab_namespaces() {
	local f
	for f in /run/netns/"$LAB"-*; do
		[[ -e "$f" ]] && printf '%s\n' "${f##*/}"
	done
	return 0
}

# ns_up NS: create it with loopback up, IPv6 DAD and router solicitations
# off (one nsenter): a quiet lab, where every packet is one we sent.
ns_up() {
	ip netns add "$1"
	# shellcheck disable=SC2016 # $c is the inner shell's
	in_ns "$1" sh -c 'ip link set lo up &&
		for c in all default; do
			echo 0 >/proc/sys/net/ipv6/conf/$c/accept_dad &&
			echo 0 >/proc/sys/net/ipv6/conf/$c/router_solicitations || exit 1
		done'
}

ns_forwarding() { # NS 0|1
	in_ns "$1" sysctl -qw net.ipv4.ip_forward="$2" net.ipv6.conf.all.forwarding="$2"
}

# ns_empty NS: nothing runs in NS any more.
ns_empty() { [[ -z "$(ip netns pids "$1" 2>/dev/null)" ]]; }

# Delete NS and everything running in it; wait until it is really gone.
ns_del() {
	local ns=$1 pids
	netns_exists "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [[ -n "$pids" ]]; then
		# shellcheck disable=SC2086 # one pid per word
		kill $pids 2>/dev/null || true
		if ! wait_until 2 ns_empty "$ns"; then
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[[ -z "$pids" ]] || kill -9 $pids 2>/dev/null || true
		fi
	fi
	ip netns del "$ns" 2>/dev/null || true
	# Pins tcaccel made for this namespace go with it.
	rm -rf -- "$(pin_root "$ns")"
	rmdir "$TCACCEL_PIN_BASE/ns" "$TCACCEL_PIN_BASE" 2>/dev/null || true
}

# ns_del_all NS...: ns_del on each, 16 at a time (deletion waits on the
# kernel, not the CPU).
ns_del_all() {
	local ns pid
	local -a pids=()
	for ns in "$@"; do
		ns_del "$ns" &
		pids+=($!)
		if ((${#pids[@]} == 16)); then
			for pid in "${pids[@]}"; do wait "$pid"; done
			pids=()
		fi
	done
	for pid in "${pids[@]+"${pids[@]}"}"; do wait "$pid"; done
}

# veth NS_A DEV_A MAC_A NS_B DEV_B MAC_B: a veth pair straight between two
# namespaces (it never exists in the caller's namespace), both ends up.
veth() {
	ip -n "$1" link add "$2" address "$3" type veth peer name "$5" address "$6" netns "$4"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
}

addr() { # NS DEV CIDR4 CIDR6
	in_ns "$1" ip addr add "$3" dev "$2"
	in_ns "$1" ip -6 addr add "$4" dev "$2" nodad
}

# Static neighbour: NS DEV IP MAC (v4 or v6).
neigh() {
	in_ns "$1" ip neigh replace "$3" lladdr "$4" dev "$2" nud permanent
}

# Both directions of a link, both families:
# link_neigh NS_A DEV_A MAC_A IP4_A IP6_A  NS_B DEV_B MAC_B IP4_B IP6_B
link_neigh() {
	neigh "$1" "$2" "$9" "$8"
	neigh "$1" "$2" "${10}" "$8"
	neigh "$6" "$7" "$4" "$3"
	neigh "$6" "$7" "$5" "$3"
}

# lab_ping NS DST: one IPv4 or IPv6 ping that must succeed quickly.
lab_ping() {
	in_ns "$1" ping -c 1 -W 2 -q "$2" >/dev/null
}
