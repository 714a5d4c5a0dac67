# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/cfgmap.sh - the tcaccel_cfg map (ifindex -> struct tcaccel_cfg)
# and the stats slots it hands out.  Sourced; needs common.sh and attach.sh.
#
# The value's layout comes from build/abi.sh (TCACCEL_CFG_FIELDS: every
# field a __u32, in order), generated from bpf/include/maps.h: a field added
# there is written here without an edit.  Reads go through bpftool's BTF
# view (.formatted), so they name fields as the C does.

[[ -n "${TCACCEL_CFGMAP_SH:-}" ]] && return 0
readonly TCACCEL_CFGMAP_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/attach.sh"
abi_source

cfg_map() { printf '%s/%s' "$(pin_dir "$1")" "$TCACCEL_CFG_MAP"; }
stats_map() { printf '%s/%s' "$(pin_dir "$1")" "$TCACCEL_STATS_MAP"; }

# cfg_hex VAR FIELD=VALUE...: struct tcaccel_cfg as bpftool hex bytes into
# VAR; fields not given are 0, unknown fields an error.
cfg_hex() {
	local -n _out=$1
	shift
	local -A v=()
	local kv f h
	for kv in "$@"; do
		f=${kv%%=*}
		[[ " ${TCACCEL_CFG_FIELDS[*]} " == *" $f "* ]] || die "internal: struct tcaccel_cfg has no field '$f'"
		v[$f]=${kv#*=}
	done
	_out=""
	for f in "${TCACCEL_CFG_FIELDS[@]}"; do
		le32 h "${v[$f]:-0}"
		_out+="${_out:+ }$h"
	done
}

# cfg_entries NS: every config entry in NS as a JSON array of
# {ifindex, <every field>}.
cfg_entries() {
	local map
	map=$(cfg_map "$1")
	[[ -e "$map" ]] || { echo '[]'; return 0; }
	bpftool -j map dump pinned "$map" | jq -c '[.[] | .formatted.value + {ifindex: .formatted.key}]'
}

# cfg_get NS IFINDEX: that entry as a JSON object (fails when there is none).
cfg_get() {
	local map key
	map=$(cfg_map "$1")
	[[ -e "$map" ]] || return 1
	le32 key "$2"
	# shellcheck disable=SC2086 # hex bytes, one per word
	bpftool -j map lookup pinned "$map" key hex $key 2>/dev/null | jq -ce '.formatted.value'
}

# cfg_set_field NS IFINDEX FIELD VALUE: one field of an existing entry
# (the others as they are).  Callers hold tcaccel_lock, as load does.
cfg_set_field() {
	local ns=$1 idx=$2 field=$3 value=$4 cur key hex i
	cur=$(cfg_get "$ns" "$idx") || return 1
	local -a vals kv=()
	read -ra vals < <(jq -r --args '[$ARGS.positional[] as $f | .[$f] // 0] | join(" ")' "${TCACCEL_CFG_FIELDS[@]}" <<<"$cur")
	for i in "${!TCACCEL_CFG_FIELDS[@]}"; do
		if [[ "${TCACCEL_CFG_FIELDS[i]}" == "$field" ]]; then
			kv+=("$field=$value")
		else
			kv+=("${TCACCEL_CFG_FIELDS[i]}=${vals[i]}")
		fi
	done
	cfg_hex hex "${kv[@]}"
	le32 key "$idx"
	# shellcheck disable=SC2086 # hex bytes, one per word
	bpftool map update pinned "$(cfg_map "$ns")" key hex $key value hex $hex
}

# cfg_update_flags NS SET CLEAR: every entry's flags |= SET, &= ~CLEAR (the
# netns-wide flags watch keeps current), in one bpftool batch; only the
# entries that change are written.
cfg_update_flags() {
	local ns=$1 set=$2 clear=$3 map idx key hex i old new
	map=$(cfg_map "$ns")
	[[ -e "$map" ]] || return 0
	local -a vals kv
	while read -r idx vals; do
		[[ -n "$idx" ]] || continue
		read -ra vals <<<"$vals"
		kv=()
		for i in "${!TCACCEL_CFG_FIELDS[@]}"; do
			if [[ "${TCACCEL_CFG_FIELDS[i]}" == flags ]]; then
				old=${vals[i]}
				new=$(((old | set) & ~clear))
				kv+=("flags=$new")
			else
				kv+=("${TCACCEL_CFG_FIELDS[i]}=${vals[i]}")
			fi
		done
		((new != old)) || continue
		cfg_hex hex "${kv[@]}"
		le32 key "$idx"
		echo "map update pinned $map key hex $key value hex $hex"
	done < <(cfg_entries "$ns" | jq -r --args '.[] | [.ifindex] + [$ARGS.positional[] as $f | .[$f] // 0] | join(" ")' \
		"${TCACCEL_CFG_FIELDS[@]}") | bpftool batch file - >/dev/null
}

# cfg_delete NS IFINDEX...: drop those entries (absent ones are fine).
cfg_delete() {
	local ns=$1 map idx key
	shift
	map=$(cfg_map "$ns")
	[[ -e "$map" ]] || return 0
	for idx in "$@"; do
		le32 key "$idx"
		echo "map delete pinned $map key hex $key"
	done | bpftool batch file - >/dev/null 2>&1 || true
}

# cfg_gc NS [ATTACHED]: drop the entries of interfaces that are gone or no
# longer carry the program (ATTACHED: attached_ifaces's output, when the
# caller has it).
cfg_gc() {
	local ns=$1 live
	local -a gone=()
	live=$(if (($# > 1)); then printf '%s\n' "$2"; else attached_ifaces "$ns"; fi |
		jq -Rsc 'split("\n") | map(select(length > 0) | split(" ")[0] | tonumber)')
	mapfile -t gone < <(cfg_entries "$ns" | jq -r --argjson live "$live" \
		'.[] | select(.ifindex as $i | $live | index($i) | not) | .ifindex')
	((${#gone[@]} == 0)) || cfg_delete "$ns" "${gone[@]}"
}

# cfg_write NS FIELD=VALUE... -- DEV:IFINDEX:FLAGS:RELOAD...: the config of
# every device, in one bpftool batch.  FIELD=VALUE are common to all
# (mode, debug, ct timeouts); flags are FLAGS | the common flags=.  An
# interface keeps its slot (and counters) across reloads (RELOAD=1: it
# carried our filter before this load); a new one gets the lowest free slot
# with zeroed counters, and so does a config entry left on an ifindex that
# did not carry the filter (a deleted device's number, reused).
cfg_write() {
	local ns=$1
	shift
	local -a common=()
	while (($#)) && [[ "$1" != -- ]]; do common+=("$1"); shift; done
	shift
	local dir cfg max vsize spec _dev idx flags reload slot next=1 zero h_slot h_idx hex extra=0 kv
	local -a fields=()
	for kv in "${common[@]}"; do
		if [[ "$kv" == flags=* ]]; then extra=${kv#flags=}; else fields+=("$kv"); fi
	done
	dir=$(pin_dir "$ns")
	cfg=$(cfg_entries "$ns")
	read -r max vsize < <(bpftool -j map show pinned "$(stats_map "$ns")" | jq -r '"\(.max_entries) \(.bytes_value)"')
	local -A slot_of=() used=()
	while read -r idx slot; do
		[[ -n "$idx" ]] || continue
		slot_of[$idx]=$slot
		used[$slot]=1
	done < <(jq -r '.[] | "\(.ifindex) \(.slot)"' <<<"$cfg")
	zero=$(zero_hex "$vsize")
	for spec in "$@"; do
		IFS=: read -r _dev idx flags reload <<<"$spec"
		slot=${slot_of[$idx]:-}
		if [[ -z "$slot" ]]; then
			while [[ -n "${used[$next]:-}" ]]; do next=$((next + 1)); done
			((next < max)) || die "no free stats slot in $dir (more than $((max - 1)) interfaces)"
			slot=$next
			used[$slot]=1
			le32 h_slot "$slot"
			echo "map update pinned $dir/$TCACCEL_STATS_MAP key hex $h_slot value hex $zero"
		elif [[ "$reload" != 1 ]]; then
			le32 h_slot "$slot"
			echo "map update pinned $dir/$TCACCEL_STATS_MAP key hex $h_slot value hex $zero"
		fi
		le32 h_idx "$idx"
		cfg_hex hex enabled=1 slot="$slot" flags=$((flags | extra)) "${fields[@]}"
		echo "map update pinned $dir/$TCACCEL_CFG_MAP key hex $h_idx value hex $hex"
	done | bpftool batch file - >/dev/null
}
