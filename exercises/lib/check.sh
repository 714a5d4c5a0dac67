# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# exercises/lib/check.sh - what every lesson's `check` script is made of.
# Sourced.  A check builds its own lab under a LAB name of its own (netns
# names LAB-*), loads the learner's object, sends bounded traffic, measures,
# and ends with PASS, or FAIL and a hint.  The lab goes away on exit,
# whatever happens.
#
#   ex_start TITLE            banner, root check, the object ($1 of check)
#   ex_lab TOPO [N]           netns/router or netns/node (N containers) up;
#                             its names and addresses become variables
#   ex_attach NS DEV          load EX_OBJ on DEV's tc ingress in NS
#   ex_map NS DEV MAP         the id of MAP used by the program on DEV
#   ex_array NS DEV MAP IDX   value IDX of an ARRAY map of __u64
#   ex_pings NS DST N         N pings (bounded); prints how many were answered
#   ex_fwd NS                 IPv4 packets the kernel forwarded (IpForwDatagrams)
#   ex_nft_count NS RULE...   a counter rule in the lesson's own nft table
#   ex_nft_read NS IDX        packets counted by the IDX-th such rule
#   ex_tx NS DEV              TX packets of DEV
#   ex_say / ex_pass / ex_fail WHAT HINT

EX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/common.sh
source "$EX_TOP/scripts/lib/common.sh"

EX_OBJ=""
EX_CLEANUP=()

ex_cleanup() {
	local i
	for ((i = ${#EX_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${EX_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
}
trap ex_cleanup EXIT

# ex_on_exit CMD: run CMD (a string) when the check ends, last added first.
ex_on_exit() { EX_CLEANUP+=("$1"); }

ex_say() { printf '  %s\n' "$*"; }

ex_pass() {
	printf '\nPASS: %s\n' "$*"
	exit 0
}

# ex_fail WHAT HINT
ex_fail() {
	printf '\nFAIL: %s\n' "$1"
	if [[ -n "${2:-}" ]]; then
		printf '%s\n' "$2" | fold -s -w 72 | awk '{ print (NR == 1 ? "hint: " : "      ") $0 }'
	fi
	exit 1
}

ex_start() {
	local title=$1
	EX_OBJ=${2:-}
	printf '%s\n' "$title"
	[[ $EUID -eq 0 ]] || die "the check needs root (network namespaces, BPF): sudo make check"
	[[ -n "$EX_OBJ" && -f "$EX_OBJ" ]] || die "usage: check OBJECT.bpf.o (make check builds it)"
	require_cmd tc bpftool jq nsenter nstat nft ping
}

ex_lab() {
	local topo=$1
	# A name of its own: checks never share namespaces.
	export LAB
	LAB=x$(printf '%04x%02x' "$RANDOM" "$((RANDOM % 256))")
	[[ -n "${2:-}" ]] && export CONTAINERS=$2
	ex_on_exit "'$EX_TOP/netns/lab' down --name $LAB"
	"$EX_TOP/netns/$topo" up >/dev/null 2>&1 || die "could not build the $topo lab"
	local k v
	while IFS='=' read -r k v; do
		[[ "$k" =~ ^[A-Z][A-Z0-9_]*$ ]] && declare -gx "$k=$v"
	done < <("$EX_TOP/netns/$topo" env)
}

ex_attach() {
	local ns=$1 dev=$2 err
	in_ns "$ns" tc qdisc replace dev "$dev" clsact
	if ! err=$(in_ns "$ns" tc filter replace dev "$dev" ingress pref 1 handle 1 bpf da obj "$EX_OBJ" sec tc 2>&1); then
		printf '%s\n' "$err" | tail -n 20
		ex_fail "the kernel refused your program on $dev (the verifier's words above)" \
			"read the last lines: they name the instruction it refused and why (e.g. a packet access without a bounds check against data_end)."
	fi
}

ex_prog() {
	in_ns "$1" tc -j filter show dev "$2" ingress | jq -r '[.[] | .options.prog.id // empty][0]'
}

ex_map() {
	local id m
	id=$(ex_prog "$1" "$2")
	for m in $(bpftool -j prog show id "$id" | jq -r '.map_ids[]?'); do
		if [[ "$(bpftool -j map show id "$m" | jq -r .name)" == "$3" ]]; then
			echo "$m"
			return 0
		fi
	done
	return 1
}

ex_array() {
	local m
	m=$(ex_map "$1" "$2" "$3") || { echo 0; return 0; }
	# shellcheck disable=SC2046 # the key bytes are separate words
	bpftool -j map lookup id "$m" key hex $(u32_hex "$4") | jq -r '.formatted.value // 0'
}

ex_pings() {
	local out
	out=$(timeout 60 nsenter --net="$(netns_path "$1")" -- ping -c "$3" -i 0.01 -W 1 "$2" 2>&1) || true
	sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out"
}

ex_fwd() {
	in_ns "$1" nstat -asz IpForwDatagrams | awk '$1 == "IpForwDatagrams" { print $2 }'
}

# Counter rules live in table "inet tcaccelex" of NS: the input and forward
# hooks, so the check sees what the kernel itself delivered or forwarded.
ex_nft_count() {
	local ns=$1 hook=$2
	shift 2
	if ! in_ns "$ns" nft list table inet tcaccelex >/dev/null 2>&1; then
		in_ns "$ns" nft add table inet tcaccelex
		in_ns "$ns" nft add chain inet tcaccelex input '{ type filter hook input priority 0; policy accept; }'
		in_ns "$ns" nft add chain inet tcaccelex forward '{ type filter hook forward priority 0; policy accept; }'
	fi
	in_ns "$ns" nft add rule inet tcaccelex "$hook" "$@" counter
}

# ex_nft_read NS HOOK IDX: packets of the IDX-th (0-based) rule of HOOK.
ex_nft_read() {
	in_ns "$1" nft -j list chain inet tcaccelex "$2" |
		jq --argjson i "$3" '[.nftables[] | .rule? // empty][$i].expr[] | .counter? // empty | .packets'
}

ex_tx() {
	in_ns "$1" ip -j -s link show dev "$2" | jq '.[0].stats64.tx.packets'
}

# ex_capture NS DEV FILTER -- CMD...: the first frame matching FILTER that
# DEV in NS receives while CMD runs, as `tcpdump -e -n -v` prints it (MACs,
# TTL, "bad cksum" when the IPv4 header checksum is wrong); empty if none.
ex_capture() {
	local ns=$1 dev=$2 filter=$3 log pid
	shift 4
	log=$(mktemp)
	ex_on_exit "rm -f '$log'"
	nsenter --net="$(netns_path "$ns")" -- timeout 10 \
		tcpdump -l -e -n -v -c 1 -i "$dev" "$filter" >"$log" 2>&1 &
	pid=$!
	wait_until 5 grep -q "listening on" "$log" || true
	"$@" >/dev/null 2>&1 || true
	wait "$pid" || true
	# tcpdump -v prints the IP header on the line after the Ethernet one.
	grep -v -e "listening on" -e "packets* captured" -e "packets* received" -e "packets* dropped" "$log" |
		paste -sd' ' | tr -s ' \t' ' '
}
