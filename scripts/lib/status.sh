# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/status.sh - `tcaccel status`: what is attached where, how it
# is configured, what else is on the hook, and the counters by reason, as
# JSON (status_json), a table, or Prometheus text (prom.sh).  Sourced.
#
# tc filters die with their device; tcaccel_cfg entries, keyed by ifindex,
# do not.  An interface deleted and re-created (it gets a new ifindex, and
# no filter: run `load` again) or a container whose netns was deleted (its
# veth goes with it) leaves an entry, and the stats slot it holds, behind.
# The datapath never reads such an entry (the program runs only where it is
# attached, and the kernel does not hand out a freed ifindex again at once),
# but status would show a ghost and the slot would never be free again:
# status forgets the entries of devices that no longer exist (under the
# lock load and unload take), and load and unload those of devices that no
# longer carry the program (cfg_gc).

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_STATUS_SH:-}" ]] && return 0
readonly TCACCEL_STATUS_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/attach.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cfgmap.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/firewall.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/prom.sh"

reasons_file() {
	local f=$TCACCEL_ROOT/build/tcaccel.reasons
	[[ -f "$f" ]] || die "reason table $f missing: run 'make'"
	printf '%s' "$f"
}

# status_ns NS: the JSON rows of one netns (status.jq).  Config entries of
# devices that no longer exist are forgotten on the way (see below).
status_ns() {
	local ns=$1 cfg stats links att net progs hooks="" gone h slot
	[[ -e "$(cfg_map "$ns")" ]] || { echo '[]'; return 0; }
	cfg=$(cfg_entries "$ns")
	links=$(in_ns "$ns" ip -j link show 2>/dev/null) || links='[]'
	gone=$(jq -r --argjson links "$links" '($links | map(.ifindex)) as $live
		| if ($live | length) == 0 then empty
		  else .[] | select(.ifindex as $i | $live | index($i) | not) | .ifindex end' <<<"$cfg" | paste -sd' ')
	if [[ -n "$gone" ]]; then
		# shellcheck disable=SC2086 # one ifindex per word
		cfg_delete "$ns" $gone
		info "netns $(ns_label "$ns"): dropped the config of vanished interface(s) (ifindex $gone)"
		cfg=$(cfg_entries "$ns")
	fi
	# Only the slots in use (plus 0), in one bpftool: a dump of the whole
	# per-CPU array is megabytes of JSON.
	stats=$(for slot in 0 $(jq -r '.[].slot' <<<"$cfg"); do
		le32 h "$slot"
		echo "map lookup pinned $(stats_map "$ns") key hex $h"
	done | bpftool -j batch file - | jq -c 'map(.output.formatted | {slot: .key, v: (.values | map(.value)
		| {p: (map(.packets) | transpose | map(add)), b: (map(.bytes) | transpose | map(add))})})')
	net=$(in_ns "$ns" bpftool -j net show 2>/dev/null) || net='[]'
	progs=$(bpftool -j prog show 2>/dev/null) || progs='[]'
	att=$(jq -cn -L "$TCACCEL_JQ" --argjson net "$net" --argjson progs "$progs" --arg name "$TCACCEL_PROG" \
		'include "attached"; attached($net; $progs; $name)')
	local -a devs=() idxs=()
	local d i
	while read -r d i; do
		[[ -n "$d" ]] && { devs+=("$d"); idxs+=("$i"); }
	done < <(jq -r '.[] | "\(.devname) \(.ifindex)"' <<<"$att")
	if ((${#devs[@]})); then
		hooks=$(hook_plan "$ns" "${devs[@]}" | jq -c --args \
			'to_entries | map({key: $ARGS.positional[.key], value: .value}) | from_entries' "${idxs[@]}")
	fi
	local tracking=false modes
	conntrack_tracking "$ns" && tracking=true
	modes=$(printf '"%s",' "${TCACCEL_MODES[@]}")
	jq -cn --arg ns "$ns" --argjson cfg "$cfg" --argjson stats "$stats" --argjson links "$links" \
		--argjson att "$att" --argjson hooks "${hooks:-{\}}" --rawfile reasons "$(reasons_file)" \
		--argjson modes "[${modes%,}]" \
		--argjson tracking "$tracking" --argjson gate "$TCACCEL_F_CT_GATE" \
		--argjson bypass "$TCACCEL_F_FW_BYPASS" -f "$TCACCEL_JQ/status.jq"
}

# status_json NETNS IFACE: the rows of every namespace with tcaccel pins (or
# just NETNS), only IFACE's when given.
status_json() {
	local only_ns=$1 iface=$2 ns
	local -a spaces=()
	if [[ -n "$only_ns" ]]; then
		spaces=("$only_ns")
	else
		[[ -d "$(pin_root "")" ]] && spaces+=("")
		for ns in "$TCACCEL_PIN_BASE"/ns/*; do
			[[ -d "$ns" ]] && is_netns_name "${ns##*/}" && spaces+=("${ns##*/}")
		done
	fi
	for ns in "${spaces[@]+"${spaces[@]}"}"; do
		if [[ -n "$ns" ]] && ! netns_exists "$ns"; then
			warn "pins for netns '$ns' remain but the netns is gone: tcaccel unload --netns $ns removes them"
			continue
		fi
		status_ns "$ns"
	done | jq -sc --arg i "$iface" 'add // [] | if $i == "" then . else map(select(.iface == $i)) end'
}

cmd_status() {
	cli_parse status "$@"
	local ns=${OPT[netns]:-} iface=${ARGS[0]:-} format=${OPT[format]}
	((${#ARGS[@]} <= 1)) || die "one interface at a time (got: ${ARGS[*]})"
	check_netns_name "$ns"
	[[ -z "$iface" ]] || check_ifname "$iface"
	need_root tcaccel status
	require_cmd bpftool jq nsenter flock
	check_netns "$ns"
	tcaccel_lock
	case "$format" in
	json) status_json "$ns" "$iface" | jq . ;;
	prom) status_json "$ns" "$iface" | status_prom ;;
	*)
		status_json "$ns" "$iface" | jq -r -f "$TCACCEL_JQ/table.jq" \
			--arg none "tcaccel is not loaded${ns:+ in netns $ns}${iface:+ on $iface}"
		;;
	esac
}
