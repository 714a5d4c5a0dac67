# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/policy.sh - host policy outside netfilter that the fast path
# must honour, read from the netns for `load` and `watch`:
#
#   IPsec (xfrm) policies  bpf_fib_lookup() knows nothing of xfrm, and a
#                          redirect skips the fwd policy check and the
#                          output path's policy lookup.  The selectors of
#                          the fwd and out policies go into the
#                          tcaccel_xfrm_{src,dst} tries; a packet that could
#                          match stays on the stack (XFRM_POLICY).
#   fwmark ip rules        the lookup must see skb->mark (BPF_FIB_LOOKUP_MARK,
#                          6.10+; before, a marked packet stays on the stack:
#                          POLICY_MARK).  A mark netfilter would set in
#                          PREROUTING (meta mark set, MARK, CONNMARK, TPROXY)
#                          never exists on the fast path: load refuses.
#
# Sourced; needs common.sh and cfgmap.sh.

[[ -n "${TCACCEL_POLICY_SH:-}" ]] && return 0
readonly TCACCEL_POLICY_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cfgmap.sh"

# xfrm_policies NS: "DIR SRC DST" for every xfrm policy of NS (all
# directions), from `ip xfrm policy` (it has no JSON output).
xfrm_policies() {
	{ in_ns "$1" ip xfrm policy show 2>/dev/null || true; } | awk '
		/^src / { src = $2; dst = $4; next }
		/^[ \t]+dir / && src != "" { print $2, src, dst; src = "" }'
}

# xfrm_report NS: a line per policy, for the load report.
xfrm_report() {
	local dir src dst
	while read -r dir src dst; do
		case "$dir" in
		fwd | out) echo "xfrm policy dir $dir src $src dst $dst: traffic it could match stays on the stack" ;;
		*) echo "xfrm policy dir $dir src $src dst $dst: local traffic only, not on the forward path" ;;
		esac
	done < <(xfrm_policies "$1")
}

# v6_hex ADDR: the 16 bytes of an IPv6 address as 32 hex digits ("::"
# expanded; no embedded IPv4).
v6_hex() {
	local a=$1 head tail g out="" n
	local -a hg=() tg=()
	if [[ "$a" == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
	else
		head=$a tail=""
	fi
	[[ -z "$head" ]] || IFS=: read -ra hg <<<"$head"
	[[ -z "$tail" ]] || IFS=: read -ra tg <<<"$tail"
	n=$((8 - ${#hg[@]} - ${#tg[@]}))
	for g in "${hg[@]+"${hg[@]}"}"; do out+=$(printf '%04x' "0x$g"); done
	for ((; n > 0; n--)); do out+=0000; done
	for g in "${tg[@]+"${tg[@]}"}"; do out+=$(printf '%04x' "0x$g"); done
	printf '%s' "$out"
}

# lpm_key PREFIX: an LPM key for tcaccel_xfrm_* (maps.h, struct
# tcaccel_prefix) as bpftool hex bytes: prefixlen (32 + bits), family
# (network order), 16 address bytes.
lpm_key() {
	local p=$1 addr bits fam hex b h
	addr=${p%/*}
	if [[ "$addr" == *:* ]]; then
		fam=10
		bits=${p#*/}; [[ "$p" == */* ]] || bits=128
		hex=$(v6_hex "$addr")
	else
		fam=2
		bits=${p#*/}; [[ "$p" == */* ]] || bits=32
		local IFS=.
		# shellcheck disable=SC2086 # split on the dots
		set -- $addr
		hex=$(printf '%02x%02x%02x%02x%024d' "$1" "$2" "$3" "$4" 0)
	fi
	le32 h $((32 + bits))
	b="$h 00 00 00 $(printf '%02x' "$fam")"
	local i
	for ((i = 0; i < 32; i += 2)); do b+=" ${hex:i:2}"; done
	printf '%s' "$b"
}

# xfrm_refresh NS: the tries hold exactly the selectors of NS's fwd and out
# policies.  Prints how many policies that is (0: the flag can stay off).
xfrm_refresh() {
	local ns=$1 dir src dst n=0 side key dir_
	dir_=$(pin_dir "$ns")
	[[ -e "$dir_/tcaccel_xfrm_src" ]] || { echo 0; return 0; }
	local -A want=()
	while read -r dir src dst; do
		[[ "$dir" == fwd || "$dir" == out ]] || continue
		want["src $src"]=1
		want["dst $dst"]=1
		n=$((n + 1))
	done < <(xfrm_policies "$ns")
	{
		for side in src dst; do
			bpftool -j map dump pinned "$dir_/tcaccel_xfrm_$side" 2>/dev/null |
				jq -r '.[].key | join(" ") | gsub("0x"; "")' | while read -r key; do
				echo "map delete pinned $dir_/tcaccel_xfrm_$side key hex $key"
			done
		done
		for key in "${!want[@]}"; do
			echo "map update pinned $dir_/tcaccel_xfrm_${key%% *} key hex $(lpm_key "${key#* }") value hex 01 00 00 00"
		done
	} | bpftool batch file - >/dev/null
	echo "$n"
}

# fwmark_rules NS: the netns's ip rules that select by mark (both families).
fwmark_rules() {
	{
		in_ns "$1" ip -4 rule show 2>/dev/null
		in_ns "$1" ip -6 rule show 2>/dev/null
	} | grep -E '\bfwmark\b' || true
}

# nf_sets_marks NS: netfilter rules of NS that set a packet's mark (or
# divert it, TPROXY); one line each.
nf_sets_marks() {
	local ns=$1
	if have nft; then
		{ in_ns "$ns" nft -j list ruleset 2>/dev/null || echo '{"nftables":[]}'; } | jq -r '
			.nftables[] | .rule? // empty | select(
				any(.expr[]?; (.mangle?.key?.meta?.key? == "mark") or has("tproxy")
					or ((.xt?.name? // "") | test("^(MARK|CONNMARK|TPROXY)$"))))
			| "nft \(.family) \(.table) \(.chain): sets the mark"'
	fi
	local cmd
	for cmd in iptables-legacy ip6tables-legacy; do
		have "$cmd" || continue
		in_ns "$ns" "$cmd" -t mangle -S 2>/dev/null | grep -E -- '-j (MARK|CONNMARK|TPROXY)' |
			sed "s/^/$cmd -t mangle: /" || true
	done
}
