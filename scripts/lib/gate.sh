# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154 # NFT_FAMILY, NFT_NAME, OBJ, warn, die, ns_label come from scripts/tcaccel and common.sh
#
# scripts/lib/gate.sh - what the firewall gate (`--firewall respect`,
# bpf/include/conntrack.h) needs from the machine, checked at load.
# Sourced by scripts/tcaccel.
#
#   gate_labels_chains    the nft chains that mark, per direction, that a
#                         packet crossed every forward and postrouting chain
#   gate_kfuncs_present   the kernel has conntrack's BPF kfuncs
#   gate_pick_obj         the object without the gate when they are missing
#   gate_label_conflicts  the ruleset uses tcaccel's conntrack labels
#   ipvs_report           IPVS virtual services in the netns

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

# The kfuncs the gate calls (bpf_skb_ct_lookup, bpf_ct_release: 6.0;
# bpf_ct_change_timeout: 6.1), looked up by name in the kernel's BTF
# (vmlinux, or the nf_conntrack module's).  TCACCEL_BTF_DIR: tests.
gate_kfuncs_present() {
	local dir=${TCACCEL_BTF_DIR:-/sys/kernel/btf} f
	local -a btf=()
	if [[ ! -e "$dir/nf_conntrack" && -z "${TCACCEL_BTF_DIR:-}" ]] && have modprobe; then
		modprobe -q nf_conntrack 2>/dev/null || true # a module: its BTF appears once loaded
	fi
	for f in "$dir/vmlinux" "$dir/nf_conntrack"; do
		[[ -r "$f" ]] && btf+=("$f")
	done
	((${#btf[@]})) || return 1
	for f in bpf_skb_ct_lookup bpf_ct_release bpf_ct_change_timeout; do
		grep -qsaF "$f" "${btf[@]}" || return 1
	done
}

# gate_pick_obj GATE: set OBJ for this load.  The gate needs the kfuncs:
# without them respect is refused; without the gate, the default object is
# swapped for the one built without it (the verifier refuses a call to a
# kfunc the kernel lacks, even one the gate flag would never reach).
gate_pick_obj() {
	gate_kfuncs_present && return 0
	if (($1)); then
		die "--firewall respect needs conntrack's BPF kfuncs (bpf_skb_ct_lookup, bpf_ct_release, bpf_ct_change_timeout: kernel 6.1+ with CONFIG_NF_CONNTRACK and BTF); this kernel's BTF ($(uname -r)) has none.
  Without them tcaccel cannot tell which flows the rules accepted: --firewall refuse (do not load) or bypass (skip the rules)."
	fi
	local noct=${OBJ%.bpf.o}-noct.bpf.o
	if [[ -f "$noct" ]]; then
		OBJ=$noct
	else
		warn "no conntrack kfuncs in this kernel and no $noct: loading $OBJ may fail in the verifier"
	fi
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
