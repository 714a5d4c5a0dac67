# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/guards.sh - load-time warnings about configurations the fast
# path cannot honour exactly, and refusals of pin directories someone else
# controls.  Sourced.

[[ -n "${TCACCEL_GUARDS_SH:-}" ]] && return 0
readonly TCACCEL_GUARDS_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"

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

# pin_dirs_check NS: refuse to pin into directories someone else controls.
# A fresh bpffs is mounted world-writable (mode 1777): another user could
# create $TCACCEL_PIN_BASE (or a netns's directory, or a symlink) first and
# then delete or swap the maps tcaccel pins there.  Every directory on the
# way to the pins that exists must be a real directory owned by root and
# writable by root only.
pin_dirs_check() {
	local ns=$1 d uid mode
	for d in "$TCACCEL_PIN_BASE" "$TCACCEL_PIN_BASE/ns" "$(pin_root "$ns")" \
		"$(pin_root "$ns")/tc" "$(pin_dir "$ns")"; do
		if [[ -L "$d" ]]; then
			die "$d is a symbolic link: tcaccel pins only into its own directories.
  Remove it (rm $d) and load again."
		fi
		[[ -e "$d" ]] || continue
		[[ -d "$d" ]] || die "$d is not a directory: remove it and load again"
		read -r uid mode < <(stat -c '%u %a' "$d")
		if [[ "$uid" != 0 ]] || ((8#$mode & 8#022)); then
			die "$d belongs to uid $uid with mode $mode: another user could swap tcaccel's pinned maps.
  Remove it (rm -rf $d) and load again; tcaccel recreates it owned by root, mode 755."
		fi
	done
}
