# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/firewall.sh - the host policy bpf_redirect() would step over,
# and the conntrack gate's own nftables table (firewall `respect`).
# Sourced; needs common.sh and cfgmap.sh.
#
# bpf_redirect() skips netfilter's PREROUTING, FORWARD and POSTROUTING hooks
# (and netdev ingress/egress chains).  firewall_report prints one line per
# thing that would be bypassed in a netns; load decides what to do with it
# (--firewall respect|bypass|refuse).

[[ -n "${TCACCEL_FIREWALL_SH:-}" ]] && return 0
readonly TCACCEL_FIREWALL_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cfgmap.sh"

# Our nftables table in `respect` mode: one rule that uses conntrack, so the
# kernel tracks connections in the netns even when the user's rules are all
# stateless (without it every lookup misses and nothing is accelerated).
readonly NFT_FAMILY=inet NFT_NAME=tcaccel
readonly LIBERAL=/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal

# firewall_report NS: one line per netfilter chain or rule on NS's forward
# path; nothing when there is none.
firewall_report() {
	local ns=$1 out
	if have nft; then
		out=$(in_ns "$ns" nft -j list ruleset 2>/dev/null) || out='{"nftables":[]}'
		jq -r -f "$TCACCEL_JQ/nft-forward.jq" <<<"$out"
	elif ! have iptables-legacy; then
		echo "cannot inspect netfilter: nft is not installed (run 'make deps')"
		return 0
	fi
	# iptables-legacy tables live outside nftables: list them when present.
	local fam cmd t
	for fam in ip ip6; do
		cmd=${fam}tables-legacy
		have "$cmd" || continue
		for t in $(in_ns "$ns" cat "/proc/net/${fam}_tables_names" 2>/dev/null || true); do
			in_ns "$ns" "$cmd" -t "$t" -S 2>/dev/null |
				grep -E '^-A (PREROUTING|FORWARD|POSTROUTING) |^-P FORWARD (DROP|REJECT)' |
				sed "s/^/$cmd -t $t: /" || true
		done
	done
}

# The be_liberal value recorded in our table's comment; empty when there is
# no table (of ours).  (Text listing: nft 1.0.6's JSON omits table comments.)
liberal_was() {
	{ in_ns "$1" nft list table "$NFT_FAMILY" "$NFT_NAME" 2>/dev/null || true; } |
		sed -n 's/^[[:space:]]*comment ".*be_liberal was \([0-9]\)".*/\1/p' | head -n1
}

# tracking_ensure NS: conntrack on in NS, by our own table, and TCP window
# tracking relaxed (bpf/include/conntrack.h says why).  The previous
# nf_conntrack_tcp_be_liberal value is kept in the table's comment, so that
# tracking_gc can restore it.  Idempotent and atomic (nft script: create,
# delete, recreate).
tracking_ensure() {
	local ns=$1 was
	require_cmd nft
	was=$(liberal_was "$ns")
	[[ -n "$was" ]] || was=$(in_ns "$ns" cat "$LIBERAL" 2>/dev/null || echo 0)
	in_ns "$ns" nft -f - <<NFT
table $NFT_FAMILY $NFT_NAME
delete table $NFT_FAMILY $NFT_NAME
table $NFT_FAMILY $NFT_NAME {
	comment "tcaccel firewall respect: nf_conntrack_tcp_be_liberal was $was"
	chain track {
		type filter hook prerouting priority -190; policy accept;
		ct state established counter comment "tcaccel: keeps conntrack tracking this netns"
	}
}
NFT
	in_ns "$ns" sh -c "echo 1 >$LIBERAL"
}

# tracking_gc NS: remove our table, and restore be_liberal, once no
# interface in NS uses the gate.
tracking_gc() {
	local ns=$1 was
	have nft || return 0
	was=$(liberal_was "$ns")
	[[ -n "$was" ]] || return 0
	if ! cfg_entries "$ns" | jq -e --argjson g "$TCACCEL_F_CT_GATE" 'any(.[]; (.flags / $g | floor) % 2 == 1)' >/dev/null; then
		in_ns "$ns" nft delete table "$NFT_FAMILY" "$NFT_NAME"
		in_ns "$ns" sh -c "echo $was >$LIBERAL"
	fi
}

# conntrack_tracking NS: true when some nftables rule in NS uses conntrack
# (ours, or the user's): only then does the kernel track the netns.
conntrack_tracking() {
	have nft && in_ns "$1" nft -j list ruleset 2>/dev/null |
		jq -e '[.. | objects | select(has("ct"))] | length > 0' >/dev/null
}

# ct_timeouts NS: conntrack's established timeouts in NS (s), "TCP UDP",
# refreshed by the fast path.
ct_timeouts() {
	in_ns "$1" sh -c 'cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established \
		/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream' 2>/dev/null | paste -sd' ' ||
		echo "432000 120"
}
