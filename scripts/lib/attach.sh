# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/attach.sh - tcaccel's filter on the clsact ingress hook, and
# the list of veths bpf_redirect_peer() may use.  Sourced; needs only
# common.sh.
#
# Where the filter goes.  cls_bpf in direct-action mode hands a packet to
# the next filter only on TC_ACT_UNSPEC (the program's "pass"); a packet it
# redirects is seen by no filter behind it.  So tcaccel attaches behind
# every filter already on the hook - at tc's first automatic preference
# (49152) or one past the last filter there - and the user's policers,
# mirrors and other programs keep seeing every packet.  A filter added later
# without a preference lands in front of ours (tc numbers automatic
# preferences downwards); one added behind ours is reported by status and
# watch, and the next load moves ours behind it.  TCACCEL_PREF=N pins the
# preference instead (load refuses when a foreign filter holds it).  Our
# filter is recognised by its program's name, whatever its preference: that
# is what unload removes.

[[ -n "${TCACCEL_ATTACH_SH:-}" ]] && return 0
readonly TCACCEL_ATTACH_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"

readonly TCACCEL_MIN_PREF=49152

# attached_ifaces NS: "ifindex name prog_id" for every device in NS carrying
# our program.
attached_ifaces() {
	local net progs
	net=$(in_ns "$1" bpftool -j net show 2>/dev/null) || net='[]'
	progs=$(bpftool -j prog show 2>/dev/null) || progs='[]'
	jq -rn -L "$TCACCEL_JQ" --argjson net "$net" --argjson progs "$progs" --arg name "$TCACCEL_PROG" \
		'include "attached"; attached($net; $progs; $name)[] | "\(.ifindex) \(.devname) \(.id)"'
}

# hook_plan NS DEV...: hook.jq's view of each DEV's ingress hook, a JSON
# array in DEV order.
hook_plan() {
	local ns=$1
	shift
	printf 'filter show dev %s ingress\n' "$@" | in_ns "$ns" tc -j -b - | jq -sc . |
		jq -c --arg name "$TCACCEL_PROG" --argjson pref "${TCACCEL_PREF:-null}" \
			--argjson min "$TCACCEL_MIN_PREF" -f "$TCACCEL_JQ/hook.jq"
}

# tc_replace NS OBJ < "DEV PREF" lines: `tc filter replace` of our filter,
# one tc -b for all; prints tc's errors.
tc_replace() {
	local ns=$1 obj=$2 dev pref
	while read -r dev pref; do
		echo "filter replace dev $dev ingress pref $pref handle $TCACCEL_HANDLE bpf da obj $obj sec tc"
	done | TC_BPF_MNT=$(pin_root "$ns") in_ns "$ns" tc -b - 2>&1
}

# tc_attach_first NS OBJ DEV PREF: the first attachment of a load, alone:
# on an incompatible stale pin, replace the pins when no other interface
# still uses them, otherwise explain.
tc_attach_first() {
	local ns=$1 obj=$2 dev=$3 pref=$4 root err
	root=$(pin_root "$ns")
	(umask 022 && mkdir -p "$root") # root-owned, 755: see pin_dirs_check
	err=$(tc_replace "$ns" "$obj" <<<"$dev $pref") && return 0
	if grep -qiE "reus(e|ing) pinned map|parameter mismatch" <<<"$err"; then
		local users
		users=$(attached_ifaces "$ns" | awk -v d="$dev" '$2 != d { print $2 }' | paste -sd' ')
		if [[ -n "$users" ]]; then
			die "the pinned maps in $(pin_dir "$ns") come from an incompatible (older) build and are still used by: $users.
  Unload those first (tcaccel unload --all${ns:+ --netns $ns}), then load again."
		fi
		warn "replacing stale pinned maps from an incompatible build in $(pin_dir "$ns")"
		rm -f "$(pin_dir "$ns")"/tcaccel_*
		err=$(tc_replace "$ns" "$obj" <<<"$dev $pref") && return 0
	fi
	log "$err"
	die "tc could not attach $obj to $dev (tc's messages above)"
}

# attach_devs NS OBJ DEV...: our filter on every DEV's ingress, behind the
# filters there (see the top of this file); clsact added where there is
# none; a filter of ours left in front of a foreign one (an older load)
# moved behind it - the new one first, so no packet finds neither.
attach_devs() {
	local ns=$1 obj=$2
	shift 2
	local -a devs=("$@") wants=() dels=()
	local plan qdiscs bad="" kind dev rest
	plan=$(hook_plan "$ns" "${devs[@]}")
	# One pass over the plan: "conflict DEV KIND HANDLE", "noroom DEV",
	# "want PREF" (in DEV order), "del DEV PREF" (our filters elsewhere).
	while read -r kind dev rest; do
		case "$kind" in
		conflict) bad=${bad:-"$dev $rest"} ;;
		noroom) bad=${bad:-"noroom $dev"} ;;
		want) wants+=("$dev") ;;
		del) dels+=("$dev $rest") ;;
		*) ;;
		esac
	done < <(jq -r --args 'to_entries[] | $ARGS.positional[.key] as $d | .value
		| (if .conflict != null then "conflict \($d) \(.conflict.kind) handle \(.conflict.handle // "?")" else empty end),
		  (if .want == null then "noroom \($d)" else "want \(.want)" end),
		  (.want as $w | .ours[] | select(. != $w) | "del \($d) \(.)")' "${devs[@]}" <<<"$plan")
	if [[ "$bad" == noroom* ]]; then
		die "${bad#noroom } ingress: a filter at preference 65535 leaves no room behind it for tcaccel; move it, or set TCACCEL_PREF=N to put tcaccel in front of the filters behind N"
	elif [[ -n "$bad" ]]; then
		read -r dev rest <<<"$bad"
		die "$dev ingress pref $TCACCEL_PREF already holds a foreign filter ($rest); tcaccel will not replace it.
  Pick another preference: TCACCEL_PREF=N tcaccel load $dev, or leave TCACCEL_PREF unset (behind every filter)"
	fi
	qdiscs=$(in_ns "$ns" tc -j qdisc show)
	local -A ingress=() clsact=()
	while read -r kind dev; do
		case "$kind" in ingress) ingress[$dev]=1 ;; clsact) clsact[$dev]=1 ;; *) ;; esac
	done < <(jq -r '.[] | select(.kind == "ingress" or .kind == "clsact") | "\(.kind) \(.dev)"' <<<"$qdiscs")
	local -a need=()
	for dev in "${devs[@]}"; do
		[[ -z "${ingress[$dev]:-}" ]] ||
			die "$dev has an 'ingress' qdisc; tcaccel needs clsact (tc qdisc del dev $dev ingress, then load again)"
		[[ -n "${clsact[$dev]:-}" ]] || need+=("$dev")
	done
	((${#need[@]} == 0)) || printf 'qdisc replace dev %s clsact\n' "${need[@]}" | in_ns "$ns" tc -b -
	tc_attach_first "$ns" "$obj" "${devs[0]}" "${wants[0]}"
	if ((${#devs[@]} > 1)); then
		local err i
		if ! err=$(for ((i = 1; i < ${#devs[@]}; i++)); do
			echo "${devs[i]} ${wants[i]}"
		done | tc_replace "$ns" "$obj"); then
			log "$err"
			die "tc could not attach $obj (tc's messages above)"
		fi
	fi
	# Our filters at other preferences (an older load's, now in front of
	# a foreign filter) go once the new one is in place.
	if ((${#dels[@]})); then
		for rest in "${dels[@]}"; do
			read -r dev kind <<<"$rest"
			echo "filter del dev $dev ingress pref $kind handle $TCACCEL_HANDLE bpf"
		done | in_ns "$ns" tc -b - 2>/dev/null || true
	fi
}

# detach_devs NS DEV...: our filters off every DEV (wherever they sit), and
# clsact off the DEVs where no filter at all is left on it.
detach_devs() {
	local ns=$1
	shift
	local -a devs=("$@")
	((${#devs[@]})) || return 0
	hook_plan "$ns" "${devs[@]}" | jq -r --args 'to_entries[] | .key as $k | .value.ours[]
		| "filter del dev \($ARGS.positional[$k]) ingress pref \(.) handle '"$TCACCEL_HANDLE"' bpf"' \
		"${devs[@]}" | in_ns "$ns" tc -b -
	local -a with_clsact=()
	local -A has_clsact=()
	local n
	while read -r n; do
		[[ -n "$n" ]] && has_clsact[$n]=1
	done < <(in_ns "$ns" tc -j qdisc show | jq -r '.[] | select(.kind == "clsact") | .dev')
	for n in "${devs[@]}"; do
		[[ -z "${has_clsact[$n]:-}" ]] || with_clsact+=("$n")
	done
	((${#with_clsact[@]})) || return 0
	local counts i=0
	counts=$(for n in "${with_clsact[@]}"; do
		echo "filter show dev $n ingress"
		echo "filter show dev $n egress"
	done | in_ns "$ns" tc -j -b - | jq -s -r '[range(0; length; 2) as $k | (.[$k] | length) + (.[$k + 1] | length)] | .[]')
	while read -r n; do
		[[ "$n" == 0 ]] && echo "qdisc del dev ${with_clsact[$i]} clsact"
		i=$((i + 1))
	done <<<"$counts" | in_ns "$ns" tc -b -
}

# --- peer-capable veths ----------------------------------------------------------

# peer_capable NS: the veths bpf_redirect_peer() may target in NS, one
# ifindex a line: the peer lives in another netns (else the kernel drops the
# packet), the device is nobody's bridge/bond port, and it has no egress tc
# filter and no root qdisc but the default noqueue (peer redirect skips the
# device's transmit: those would be bypassed silently).
peer_capable() {
	local ns=$1 links qdiscs
	links=$(in_ns "$ns" ip -d -j link show)
	qdiscs=$(in_ns "$ns" tc -j qdisc show)
	# Devices with clsact: egress filters would be bypassed too.
	local -a clsact=() shaped=()
	mapfile -t clsact < <(jq -r '.[] | select(.kind == "clsact") | .dev' <<<"$qdiscs")
	if ((${#clsact[@]})); then
		mapfile -t shaped < <(printf 'filter show dev %s egress\n' "${clsact[@]}" |
			in_ns "$ns" tc -j -b - | jq -s -r --args '
				to_entries[] | select(.value | length > 0) | $ARGS.positional[.key]' "${clsact[@]}")
	fi
	jq -rn --argjson links "$links" --argjson qdiscs "$qdiscs" --args '
		$ARGS.positional as $sh
		| ($qdiscs | map(select(.root == true and .kind != "noqueue") | .dev)) as $q
		| $links[] | select(.linkinfo.info_kind? == "veth" and .link_netnsid != null
			and .master == null)
		| select(.ifname as $n | ($q + $sh) | index($n) | not) | .ifindex' \
		"${shaped[@]+"${shaped[@]}"}"
}

# peers_refresh NS: make tcaccel_peers hold exactly peer_capable()'s devices.
peers_refresh() {
	local ns=$1 map key
	local -A want=() have=()
	map="$(pin_dir "$ns")/$TCACCEL_PEERS_MAP"
	[[ -e "$map" ]] || return 0
	while read -r key; do [[ -n "$key" ]] && want[$key]=1; done < <(peer_capable "$ns")
	while read -r key; do [[ -n "$key" ]] && have[$key]=1; done < <(bpftool -j map dump pinned "$map" | jq -r '.[].formatted.key')
	{
		for key in "${!have[@]}"; do
			[[ -n "${want[$key]:-}" ]] && continue
			le32 key "$key"
			echo "map delete pinned $map key hex $key"
		done
		for key in "${!want[@]}"; do
			[[ -n "${have[$key]:-}" ]] && continue
			le32 key "$key"
			echo "map update pinned $map key hex $key value hex 01 00 00 00"
		done
	} | bpftool batch file - >/dev/null
}
