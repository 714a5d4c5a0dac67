# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/guards.sh - load-time warnings about configurations the fast
# path cannot honour exactly.  Sourced by scripts/tcaccel.

# route_mtu_check NS: warn about IPv4 routes that carry an MTU without
# `lock`.  ip_forward() honours a route's MTU (ip_dst_mtu_maybe_forward());
# bpf_fib_lookup() only honours it when it is locked
# (ip_mtu_from_fib_result()), so the fast path would forward packets up to
# the device MTU through such a route.  IPv6 needs nothing: ip6_forward()
# too ignores an unlocked route MTU.
route_mtu_check() {
	local ns=$1 routes
	routes=$(in_ns "$ns" ip -4 route show table all 2>/dev/null |
		sed -n 's/^\([^ ]*\) .* mtu \([0-9][0-9]*\).*/\1 (mtu \2)/p' | paste -sd',' | sed 's/,/, /g') || true
	[[ -z "$routes" ]] && return 0
	warn "IPv4 route(s) with an MTU that is not locked in netns $(ns_label "$ns"): $routes.
  The kernel's forwarding honours it, tcaccel cannot see it (bpf_fib_lookup only honours locked route MTUs):
  packets up to the device MTU would be forwarded through it.  Set it as 'mtu lock N' (ip route change ... mtu lock N)."
}
