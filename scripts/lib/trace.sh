# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/trace.sh - `tcaccel trace IFACE`: debug on, trace_pipe
# streamed, debug off however we leave.  Sourced.

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_TRACE_SH:-}" ]] && return 0
readonly TCACCEL_TRACE_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cfgmap.sh"

# trace_debug NS IFINDEX 0|1: the debug field, under the lock load takes
# (the lock is released again: trace runs for long).
trace_debug() {
	(
		tcaccel_lock
		cfg_set_field "$1" "$2" debug "$3"
	)
}

cmd_trace() {
	cli_parse trace "$@"
	local ns=${OPT[netns]:-} iface=${ARGS[0]:-} duration=${OPT[duration]:-} ifindex
	((${#ARGS[@]} <= 1)) || die "one interface at a time (got: ${ARGS[*]})"
	[[ -n "$iface" ]] || die "which interface? e.g. tcaccel trace eth0 (or make trace IFACE=eth0)"
	check_ifname "$iface"
	check_netns_name "$ns"
	[[ -z "$duration" || "$duration" =~ ^[0-9]+$ ]] || die "--duration takes whole seconds"
	need_root tcaccel trace
	require_cmd bpftool jq nsenter flock
	check_netns "$ns"
	ifindex=$(dev_ifindex "$ns" "$iface") || die "device '$iface' not found in netns $(ns_label "$ns")"
	trace_debug "$ns" "$ifindex" 1 >/dev/null 2>&1 ||
		die "tcaccel is not loaded on $iface (netns $(ns_label "$ns")): load it first"
	tracefs_ensure
	# Debug goes off however we leave: end of duration, Ctrl-C, or an error.
	# shellcheck disable=SC2064 # expand now: the values are fixed
	trap "trace_debug '$ns' '$ifindex' 0 >/dev/null 2>&1 || true" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	info "tracing $iface (ifindex $ifindex, netns $(ns_label "$ns"))${duration:+ for ${duration}s}; Ctrl-C stops"
	local -a t=()
	[[ -n "$duration" ]] && t=(timeout "$duration")
	"${t[@]}" cat "$TCACCEL_TRACEFS/trace_pipe" | grep --line-buffered "tcaccel: if=$ifindex " || true
}
