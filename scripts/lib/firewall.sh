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
# stateless (without it every lookup misses and nothing is accelerated), and
# the chains that label each direction of a flow the rules accepted
# (gate_labels_chains).
readonly NFT_FAMILY=inet NFT_NAME=tcaccel
readonly LIBERAL=/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal

# Conntrack labels tcaccel sets (bpf/include/conntrack.h, TCACCEL_CT_LABEL_*):
# a packet of the original / reply direction crossed every forward chain
# (124/125), then every postrouting chain (126/127).  The gate wants 126 and
# 127: the user's rules accepted both directions.
readonly GATE_LABEL_FWD_ORIG=124 GATE_LABEL_FWD_REPLY=125
readonly GATE_LABEL_OK_ORIG=126 GATE_LABEL_OK_REPLY=127

# The chains, for tracking_ensure's table.  Priorities: the last possible
# at forward (2147483647; iptables-nft, iptables-legacy and ip6tables
# filter at 0): nftables runs a hook's base chains in priority order and a
# drop in any of them is final, so a packet that reaches this one was
# accepted by all.  At postrouting one less (conntrack confirms at
# 2147483647), after NAT (100) and filter chains.
gate_labels_chains() {
	cat <<EOF
	chain accepted_forward {
		type filter hook forward priority 2147483647; policy accept;
		ct direction original ct label set $GATE_LABEL_FWD_ORIG comment "tcaccel: the rules forwarded this direction"
		ct direction reply ct label set $GATE_LABEL_FWD_REPLY
	}
	chain accepted_postrouting {
		type filter hook postrouting priority 2147483646; policy accept;
		ct direction original ct label $GATE_LABEL_FWD_ORIG ct label set $GATE_LABEL_OK_ORIG comment "tcaccel: ... and let it out"
		ct direction reply ct label $GATE_LABEL_FWD_REPLY ct label set $GATE_LABEL_OK_REPLY
	}
EOF
}


# firewall_report NS: one line per netfilter chain or rule on NS's forward
# path, and IPVS's virtual services; nothing when there is none.  A line
# starting "cannot read" means the ruleset could not be inspected: load
# fails closed on it.
firewall_report() {
	local ns=$1 out
	if have nft; then
		if ! out=$(in_ns "$ns" nft -j list ruleset 2>/dev/null) || ! jq -e . >/dev/null 2>&1 <<<"$out"; then
			out=$({ in_ns "$ns" nft -j list ruleset 2>&1 >/dev/null || true; } | head -c 300 | tr '\n' ' ')
			echo "cannot read the nftables ruleset (nft -j list ruleset: ${out:-no JSON})"
			out='{"nftables":[]}'
		fi
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
			if ! out=$(in_ns "$ns" "$cmd" -t "$t" -S 2>&1); then
				echo "cannot read $cmd -t $t ($(head -c 200 <<<"$out" | tr '\n' ' '))"
				continue
			fi
			grep -E '^-A (PREROUTING|FORWARD|POSTROUTING) |^-P FORWARD (DROP|REJECT)' <<<"$out" |
				sed "s/^/$cmd -t $t: /" || true
		done
	done
	ipvs_report "$ns"
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
$(gate_labels_chains)
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

# gate_label_conflicts NS: the user's rules that set or match tcaccel's
# labels (124-127), one line each; nothing when there are none.  nftables
# rules by number, iptables' connlabel match by number or by a name
# /etc/xtables/connlabel.conf gives one of those bits.
gate_label_conflicts() {
	local ns=$1 out f
	if have nft && out=$(in_ns "$ns" nft -j list ruleset 2>/dev/null); then
		jq -r --arg fam "$NFT_FAMILY" --arg tbl "$NFT_NAME" '
			.nftables[] | .rule? // empty | select((.family == $fam and .table == $tbl) | not)
			| . as $r | [.. | objects | select((.left?.ct?.key == "label") or (.key?.ct?.key == "label"))
				| (.right // .value) | select(type == "number" and . >= 124 and . <= 127)]
			| select(length > 0)
			| "nft \($r.family) \($r.table) \($r.chain): a rule uses ct label \(map(tostring) | join(", "))"' <<<"$out"
	fi
	for f in iptables-save ip6tables-save iptables-legacy-save ip6tables-legacy-save; do
		have "$f" || continue
		{ in_ns "$ns" "$f" 2>/dev/null || true; } | grep -E -- '-m connlabel .*--label (12[4-7])\b' | sed "s/^/$f: /" || true
	done
	f=/etc/xtables/connlabel.conf
	if [[ -r "$f" ]]; then
		grep -E '^[[:space:]]*12[4-7][[:space:]]' "$f" | sed "s|^|$f: |" || true
	fi
}

# ipvs_report NS: one line when IPVS has virtual services in NS.  IPVS
# (LVS-NAT, kube-proxy's IPVS mode) rewrites packets in its own hooks,
# outside nftables; its replies look like plain forwarded packets whose
# conntrack entry (net.ipv4.vs.conntrack=1) has a reply tuple no NAT made.
# The gate leaves those on the stack (CT_TUPLE); bypass would not.
ipvs_report() {
	local ns=$1 n=0 src=""
	local re='^(TCP|UDP|SCTP|FWM)[[:space:]]'
	if in_ns "$ns" test -r /proc/net/ip_vs; then
		n=$(in_ns "$ns" cat /proc/net/ip_vs 2>/dev/null | grep -cE "$re" || true)
		src=/proc/net/ip_vs
	fi
	if ((n == 0)) && have ipvsadm; then
		n=$({ in_ns "$ns" ipvsadm -Ln 2>/dev/null || true; } | grep -cE "$re" || true)
		src=ipvsadm
	fi
	((n > 0)) || return 0
	echo "ipvs: $n virtual service(s) ($src): IPVS rewrites its flows outside netfilter's rules"
}
