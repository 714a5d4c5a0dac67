# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154 # CFG_MAP and the cfg helpers come from scripts/tcaccel
#
# scripts/lib/gc.sh - forget tcaccel state whose kernel objects are gone.
# Sourced by scripts/tcaccel (after its map names and cfg helpers).
#
# tc filters die with their device; tcaccel_cfg entries, keyed by ifindex,
# do not.  An interface deleted and re-created (it gets a new ifindex, and
# no filter: run `load` again) or a container whose netns was deleted (its
# veth goes with it) leaves an entry, and the stats slot it holds, behind.
# The datapath never reads such an entry (the program runs only where it is
# attached, and the kernel does not hand out a freed ifindex again at once),
# but `status` would show a ghost and the slot would never be free again.
# `load` and `unload` drop entries of interfaces that are gone or no longer
# carry the program (cfg_gc); `status` drops those of devices that no longer
# exist, under the same lock as load and unload.

# cfg_gc_vanished NS: delete NS's config entries whose ifindex names no
# device in NS; print their ifindexes.
cfg_gc_vanished() {
	local ns=$1 live idx
	[[ -e "$(pin_dir "$ns")/$CFG_MAP" ]] || return 0
	live=$(in_ns "$ns" ip -j link show 2>/dev/null | jq -c 'map(.ifindex)') || return 0
	[[ "$live" == "[]" || -z "$live" ]] && return 0 # cannot tell: keep everything
	for idx in $(cfg_entries "$ns" | jq -r --argjson live "$live" \
		'.[] | select(.ifindex as $i | $live | index($i) | not) | .ifindex'); do
		cfg_delete "$ns" "$idx"
		printf '%s\n' "$idx"
	done
}

# status_gc [NS]: cfg_gc_vanished in NS, or in every namespace with pins
# (the host's and every existing netns's).
status_gc() {
	local ns gone
	local -a spaces=()
	if [[ -n "${1:-}" ]]; then
		spaces=("$1")
	else
		[[ -d "$(pin_root "")" ]] && spaces+=("")
		for ns in "$TCACCEL_PIN_BASE"/ns/*; do
			[[ -d "$ns" ]] && netns_exists "${ns##*/}" && spaces+=("${ns##*/}")
		done
	fi
	for ns in "${spaces[@]+"${spaces[@]}"}"; do
		gone=$(cfg_gc_vanished "$ns" | paste -sd' ')
		[[ -z "$gone" ]] || info "netns $(ns_label "$ns"): dropped the config of vanished interface(s) (ifindex $gone)"
	done
}
