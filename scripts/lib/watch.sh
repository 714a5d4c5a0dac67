# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/watch.sh - `tcaccel watch`: keep what load decided from a
# snapshot in step with the netns.  Sourced.
#
# load looks at the netns once.  Some of what it saw decides, per packet,
# whether the fast path may step over something, and can change any time:
#   - a qdisc or an egress filter added to a container's veth (the
#     Kubernetes bandwidth plugin adds a tbf): bpf_redirect_peer() skips the
#     veth's transmit, so the veth must leave tcaccel_peers;
#   - a loaded device enslaved to a bridge or bond (its packets now belong to
#     the master) or moved to another netns (its config and peer entry would
#     name a foreign ifindex): it must stop being accelerated;
#   - a filter added behind tcaccel on an ingress hook (it sees only what
#     tcaccel passes): said, and the next load moves tcaccel behind it;
#   - IPsec policies added or removed: their selectors (policy.sh) and the
#     interfaces' XFRM flag follow.
# watch follows `ip monitor` and `tc monitor` in the netns and, a moment
# after each burst of events (and every WATCH_PERIOD seconds regardless),
# runs watch_refresh under the lock load takes.

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_WATCH_SH:-}" ]] && return 0
readonly TCACCEL_WATCH_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/load.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/policy.sh"

: "${TCACCEL_WATCH_PERIOD:=5}"

# watch_refresh NS: one pass over what may have changed; says what it did.
watch_refresh() {
	local ns=$1 links attached
	[[ -e "$(cfg_map "$ns")" ]] || return 0
	links=$(in_ns "$ns" ip -j link show 2>/dev/null) || return 0
	attached=$(attached_ifaces "$ns")
	# Devices that became a bridge or bond port: unloaded (their config
	# goes too), as load would refuse them.
	local -a ports=() devs=()
	local name master kind pref
	while read -r name master; do
		[[ -n "$name" ]] || continue
		ports+=("$name")
		warn "$name (netns $(ns_label "$ns")) is now a port of $master: no longer accelerated (load on $master)"
	done < <(awk '{ print $2 }' <<<"$attached" |
		jq -Rr --argjson links "$links" '. as $n | $links[] | select(.ifname == $n and .master != null) | "\(.ifname) \(.master)"')
	if ((${#ports[@]})); then
		unload_devs "$ns" "${ports[@]}" >/dev/null 2>&1
		attached=$(attached_ifaces "$ns")
	fi
	# Devices gone or moved away took their filter along: their config goes.
	cfg_gc "$ns" "$attached"
	peers_refresh "$ns"
	if (($(xfrm_refresh "$ns") > 0)); then
		cfg_update_flags "$ns" "$TCACCEL_F_XFRM" 0
	else
		cfg_update_flags "$ns" 0 "$TCACCEL_F_XFRM"
	fi
	# Filters behind ours.
	mapfile -t devs < <(awk 'NF { print $2 }' <<<"$attached")
	((${#devs[@]})) || return 0
	hook_plan "$ns" "${devs[@]}" | jq -r --args 'to_entries[] | .key as $k | .value as $v
		| $v.others[] | select(.pref > ($v.ours[0] // 65536))
		| "\($ARGS.positional[$k]) \(.kind) \(.pref)"' "${devs[@]}" |
		while read -r name kind pref; do
			warn "$name (netns $(ns_label "$ns")): a $kind filter at pref $pref sits behind tcaccel and sees only the packets tcaccel passes; tcaccel load moves tcaccel behind it"
		done
}

cmd_watch() {
	cli_parse watch "$@"
	local ns=${OPT[netns]:-} ev
	((${#ARGS[@]} == 0)) || die "watch takes no interface: it follows the whole netns (--netns NS)"
	check_netns_name "$ns"
	need_root tcaccel watch
	require_cmd ip tc bpftool jq nsenter flock
	check_netns "$ns"
	# One stream of events from the monitors (through a FIFO, so that we
	# know their pids and stop them however we leave), started before the
	# first look so that no change falls between the two; a refresh after
	# each burst of events, and every TCACCEL_WATCH_PERIOD seconds regardless.
	local dir rc
	dir=$(mktemp -d)
	mkfifo "$dir/events"
	local -a pids=()
	in_ns "$ns" ip monitor link >"$dir/events" 2>/dev/null &
	pids+=($!)
	in_ns "$ns" tc monitor >"$dir/events" 2>/dev/null &
	pids+=($!)
	in_ns "$ns" ip xfrm monitor policy >"$dir/events" 2>/dev/null &
	pids+=($!)
	# shellcheck disable=SC2064 # expand now: the values are fixed
	trap "kill ${pids[*]} 2>/dev/null; rm -rf '$dir'" EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	exec {ev}<"$dir/events"
	(tcaccel_lock && watch_refresh "$ns") || true
	info "watching netns $(ns_label "$ns"): qdiscs, filters, links, IPsec policies (Ctrl-C stops)"
	while :; do
		rc=0
		IFS= read -r -t "$TCACCEL_WATCH_PERIOD" -u "$ev" _ || rc=$?
		if ((rc == 0)); then
			# the rest of the burst
			while IFS= read -r -t 0.2 -u "$ev" _; do :; done
		elif ((rc <= 128)); then
			break # the monitors ended (the netns went)
		fi
		(tcaccel_lock && watch_refresh "$ns") || true
	done
	info "netns $(ns_label "$ns") went away: watch ends"
}
