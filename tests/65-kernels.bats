#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# What the kernel offers, and what only other kernels have.
#
# Everywhere: `load` and `doctor` probe the running kernel (scripts/lib/
# features.sh) and the datapath gets the flags it needs; `load` refuses a
# firewall mode that would accelerate nothing.
#
# Where the kernel has them (Debian's 6.1 and 6.12 in `make vmtest`; they
# skip on a kernel without): 802.1Q VLAN devices on the fast path, tc's
# netem and gact as host policy that the fast path must not bypass, and
# nftables flowtables side by side with tcaccel on the same lab.
# Evidence is the router's own counters (IpForwDatagrams), what the far end
# receives (its IpInReceives), and the qdiscs' and filters' drop counts.

load helpers

setup_file() {
	lab_up router
	head -c 4M /dev/urandom >"$BATS_FILE_TMPDIR/data"
}

teardown_file() {
	lab_down
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" nft flush ruleset 2>/dev/null || true
	in_ns "$NS_ROUTER" conntrack -F >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_SERVER" root 2>/dev/null || true
	in_ns "$NS_ROUTER" tc qdisc del dev "$RT_IF_CLIENT" clsact 2>/dev/null || true
}

kernel_fwd() { ns_fwd "$NS_ROUTER"; }

# slots NS DEV...: remember the stats slots `load` gave DEVs (for reasons).
declare -gA SLOT=()
slots() {
	local ns=$1 dev
	shift
	for dev in "$@"; do SLOT[$ns/$dev]=$(iface_slot "$ns" "$dev"); done
}

# reasons NS REASON[+REASON...] DEV...: packets counted under those reasons
# on those DEVs (slots first), read from the stats map itself: `tcaccel
# status` costs seconds in a TCG guest (the status pipeline has tests of
# its own).
reasons() {
	local ns=$1 rs=$2 dev sum=0
	shift 2
	for dev in "$@"; do
		[[ -n "${SLOT[$ns/$dev]:-}" ]] || { echo "reasons: no slot for $dev (call slots)" >&2; return 1; }
		# shellcheck disable=SC2086 # REASON+REASON, split
		sum=$((sum + $(slot_reasons "$ns" "${SLOT[$ns/$dev]}" ${rs//+/ })))
	done
	echo "$sum"
}
# reason_counts NS DEV REASON...: each reason's packets on DEV, one line.
reason_counts() {
	local ns=$1 dev=$2 r idx=()
	shift 2
	for r in "$@"; do idx+=("$(reason_index "$r")"); done
	# shellcheck disable=SC2046
	bpftool -j map lookup pinned "$(pin_dir "$ns")/tcaccel_stats" key hex $(u32_hex "${SLOT[$ns/$dev]:?call slots}") |
		jq -r --argjson i "[$(IFS=,; echo "${idx[*]}")]" \
			'[.formatted.values[].value.packets] as $c | $i | map(. as $k | $c | map(.[$k]) | add) | join(" ")'
}

fast() { # forwarded by tcaccel on the router (0 while it is not loaded)
	[[ -n "${SLOT[$NS_ROUTER/$RT_IF_CLIENT]:-}" ]] || { echo 0; return 0; }
	reasons "$NS_ROUTER" REDIRECT+PEER+NEIGH "$RT_IF_CLIENT" "$RT_IF_SERVER"
}

# cfg_flags NS IFACE [FLAGS]: the flags word of IFACE's config entry
# (bytes 16-19 of struct tcaccel_cfg); with FLAGS, write it instead.
cfg_flags() {
	local map key raw
	map="$(pin_dir "$1")/tcaccel_cfg"
	key=$(u32_hex "$(ifindex "$1" "$2")")
	# shellcheck disable=SC2086
	raw=$(bpftool -j map lookup pinned "$map" key hex $key | jq -r '.value | map(ltrimstr("0x")) | join(" ")')
	local -a b
	read -ra b <<<"$raw"
	if (($# == 2)); then
		echo $((16#${b[16]} | 16#${b[17]} << 8 | 16#${b[18]} << 16 | 16#${b[19]} << 24))
		return 0
	fi
	read -r "b[16]" "b[17]" "b[18]" "b[19]" <<<"$(u32_hex "$3")"
	# shellcheck disable=SC2086
	bpftool map update pinned "$map" key hex $key value hex "${b[@]}"
}

# fake_btf DIR: a kernel BTF with none of the names the probe looks for
# (what a kernel before 6.0 would show: no SKIP_NEIGH, no conntrack kfuncs).
fake_btf() {
	mkdir -p "$1"
	printf '\0int\0' >"$1/vmlinux"
}

# neigh_ping: 5 pings client -> server with tcaccel in neigh mode on
# to-client only; NEIGH and FIB_ERROR counted there, the kernel's count.
neigh_ping() {
	local n0 e0 f0 n e
	read -r n0 e0 < <(reason_counts "$NS_ROUTER" "$RT_IF_CLIENT" NEIGH FIB_ERROR)
	f0=$(snmp "$NS_ROUTER" IpForwDatagrams)
	run in_ns "$NS_CLIENT" ping -c 5 -i 0.2 -W 2 "$SERVER_IP4"
	assert_success
	assert_equal "$(grep -c 'ttl=63' <<<"$output")" 5
	read -r n e < <(reason_counts "$NS_ROUTER" "$RT_IF_CLIENT" NEIGH FIB_ERROR)
	# (the replies come back through the kernel: to-server has no tcaccel)
	NEIGH_PING="neigh $((n - n0)), fib_error $((e - e0)), kernel $(($(snmp "$NS_ROUTER" IpForwDatagrams) - f0))"
}

# --- the probe, on every kernel ----------------------------------------------

@test "doctor prints the kernel's features; a kernel at or after a flag's release has it" {
	run "$TCACCEL" doctor
	assert_line --partial "kernel features ($(uname -r), from its BTF):"
	# the table goes into the log: it is what `make vmtest` learns per kernel
	sed -n '/^kernel features/,/^$/s/^/# /p' <<<"$output" >&3
	local v want f
	IFS=. read -r v want _ <<<"$(uname -r)"
	v=$((v * 100 + ${want%%[!0-9]*}))
	# upstream releases: SKIP_NEIGH 6.3, TBID 6.5, SRC 6.7, MARK 6.10.  Only
	# one way: stable kernels get them backported (Debian's 6.1 has the
	# first three).
	for want in SKIP_NEIGH:603 TBID:605 SRC:607 MARK:610; do
		f=${want%:*}
		assert_line --regexp "^  (yes|no ) +BPF_FIB_LOOKUP_$f"
		((v < ${want#*:})) || assert_line --regexp "^  yes +BPF_FIB_LOOKUP_$f *\$"
	done
	assert_line --regexp "^  yes +bpf_redirect_peer"
	assert_line --regexp "^  yes +bpf_redirect_neigh"
	# (a modular conntrack has its kfuncs in its own BTF, once loaded)
	assert_line --regexp "^  (yes +conntrack kfuncs +in (vmlinux|nf_conntrack); bpf_ct_opts sizes accepted: 12|[?] +conntrack kfuncs .*module nf_conntrack not loaded)"
}

@test "the SKIP_NEIGH probe agrees with bpf_fib_lookup(), and neigh mode forwards without the flag" {
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode neigh
	slots "$NS_ROUTER" "$RT_IF_CLIENT"
	local flags
	flags=$(cfg_flags "$NS_ROUTER" "$RT_IF_CLIENT")
	if ((flags & 256)); then
		# the probe says the kernel lacks it: asked anyway, it fails the lookup
		cfg_flags "$NS_ROUTER" "$RT_IF_CLIENT" $((flags & ~256))
		neigh_ping
		assert_equal "$NEIGH_PING" "neigh 0, fib_error 5, kernel 10"
		cfg_flags "$NS_ROUTER" "$RT_IF_CLIENT" "$flags"
	else
		# the probe says the kernel has it: the lookup with it works
		neigh_ping
		assert_equal "$NEIGH_PING" "neigh 5, fib_error 0, kernel 5"
	fi

	# A kernel without it (< 6.3, simulated by the probe): plain lookups,
	# neigh mode forwards all the same, with the neighbour known or not.
	# The source check is a plain reverse lookup then too: with rp_filter
	# strict it still passes the lab's own traffic.
	TCACCEL_BTF_DIR=$BATS_TEST_TMPDIR/btf
	fake_btf "$TCACCEL_BTF_DIR"
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=1"
	TCACCEL_BTF_DIR=$TCACCEL_BTF_DIR "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode neigh
	in_ns "$NS_ROUTER" sysctl -qw "net.ipv4.conf.$RT_IF_CLIENT.rp_filter=0"
	assert_equal "$(($(cfg_flags "$NS_ROUTER" "$RT_IF_CLIENT") & 257))" 257
	neigh_ping
	assert_equal "$NEIGH_PING" "neigh 5, fib_error 0, kernel 5"
	in_ns "$NS_ROUTER" ip neigh del "$SERVER_IP4" dev "$RT_IF_SERVER"
	neigh_ping
	in_ns "$NS_ROUTER" ip neigh replace "$SERVER_IP4" lladdr "$SERVER_MAC" dev "$RT_IF_SERVER" nud permanent
	assert_equal "$NEIGH_PING" "neigh 5, fib_error 0, kernel 5"
}

@test "load refuses firewall respect on a kernel without conntrack kfuncs (it would accelerate nothing)" {
	in_ns "$NS_ROUTER" iptables -A FORWARD -p tcp --dport 5201 -j DROP
	local btf=$BATS_TEST_TMPDIR/btf
	fake_btf "$btf"
	TCACCEL_BTF_DIR=$btf run "$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "firewall respect would accelerate nothing here"
	assert_output --partial "no conntrack kfuncs"
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" ""
	in_ns "$NS_ROUTER" iptables -F FORWARD
}

# --- 802.1Q VLANs ------------------------------------------------------------
#
#   client eth0.100 --+                      +-- server eth0.200
#   198.18.101.2      |   $LAB-sw: br0       |   198.18.102.2
#                     +-- (tags pass) -- eth0 [vrouter] eth0.100 198.18.101.1
#                                                      eth0.200 198.18.102.1
# One trunk into the router; it routes between its two VLAN devices.

vlan_lab() {
	local sw vr vc vs ns
	sw=$(lab_ns sw) vr=$(lab_ns vrouter) vc=$(lab_ns vclient) vs=$(lab_ns vserver)
	for ns in "$sw" "$vr" "$vc" "$vs"; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
	in_ns "$vr" sysctl -qw net.ipv4.ip_forward=1
	in_ns "$sw" ip link add br0 type bridge
	in_ns "$sw" ip link set br0 up
	local n mac
	for n in vrouter:02:ca:10:00:00:01 vclient:02:ca:10:00:00:02 vserver:02:ca:10:00:00:03; do
		mac=${n#*:}
		n=${n%%:*}
		ip -n "$sw" link add "p-$n" type veth peer name eth0 address "$mac" netns "$(lab_ns "$n")"
		in_ns "$sw" ip link set "p-$n" master br0 up
		in_ns "$(lab_ns "$n")" ip link set eth0 up
	done
	in_ns "$vr" ip link add link eth0 name eth0.100 type vlan id 100
	in_ns "$vr" ip link add link eth0 name eth0.200 type vlan id 200
	in_ns "$vc" ip link add link eth0 name eth0.100 type vlan id 100
	in_ns "$vs" ip link add link eth0 name eth0.200 type vlan id 200
	in_ns "$vr" ip link set eth0.100 up
	in_ns "$vr" ip link set eth0.200 up
	in_ns "$vc" ip link set eth0.100 up
	in_ns "$vs" ip link set eth0.200 up
	in_ns "$vr" ip addr add 198.18.101.1/24 dev eth0.100
	in_ns "$vr" ip addr add 198.18.102.1/24 dev eth0.200
	in_ns "$vc" ip addr add 198.18.101.2/24 dev eth0.100
	in_ns "$vs" ip addr add 198.18.102.2/24 dev eth0.200
	in_ns "$vc" ip route add default via 198.18.101.1
	in_ns "$vs" ip route add default via 198.18.102.1
	in_ns "$vr" ip neigh replace 198.18.101.2 lladdr 02:ca:10:00:00:02 dev eth0.100 nud permanent
	in_ns "$vr" ip neigh replace 198.18.102.2 lladdr 02:ca:10:00:00:03 dev eth0.200 nud permanent
	in_ns "$vc" ip neigh replace 198.18.101.1 lladdr 02:ca:10:00:00:01 dev eth0.100 nud permanent
	in_ns "$vs" ip neigh replace 198.18.102.1 lladdr 02:ca:10:00:00:01 dev eth0.200 nud permanent
}

# probe_veth CMD: can CMD be done to a veth p1?  In a namespace of its own
# (unshare -n, gone with the process): devices made in the runner's would
# show in 80-safety's view of it, which another file may be taking then.
probe_veth() {
	unshare -n sh -c "ip link add p1 type veth peer name p2 && $1" 2>/dev/null
}

have_vlan() { probe_veth 'ip link add link p1 name p3 type vlan id 100'; }

@test "VLAN: routing between eth0.100 and eth0.200 of one trunk rides the fast path" {
	have_vlan || skip "this kernel has no 802.1Q VLAN devices"
	vlan_lab
	local vr vc vs
	vr=$(lab_ns vrouter) vc=$(lab_ns vclient) vs=$(lab_ns vserver)
	# the kernel path first: the same pings, forwarded by the router's stack
	local k0 r0
	k0=$(snmp "$vr" IpForwDatagrams)
	run in_ns "$vc" ping -c 5 -i 0.2 -W 2 198.18.102.2
	assert_success
	assert_equal "kernel $(($(snmp "$vr" IpForwDatagrams) - k0))" "kernel 10"

	# the trunk carries tags: the program on it would see VLAN and pass;
	# the VLAN devices see plain Ethernet, and are where it goes
	"$TCACCEL" load all --netns "$vr"
	slots "$vr" eth0 eth0.100 eth0.200
	k0=$(snmp "$vr" IpForwDatagrams)
	r0=$(reasons "$vr" REDIRECT+PEER+NEIGH eth0.100 eth0.200)
	run in_ns "$vc" ping -c 5 -i 0.2 -W 2 198.18.102.2
	assert_success
	assert_equal "$(grep -c 'ttl=63' <<<"$output")" 5
	# and a TCP transfer, checksummed
	local out=$BATS_TEST_TMPDIR/received
	bg "$vs" "$BATS_TEST_TMPDIR/socat.log" timeout 120 socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$vs" 5001
	timeout 120 nsenter --net="$(netns_path "$vc")" -- socat -u "OPEN:$BATS_FILE_TMPDIR/data" TCP:198.18.102.2:5001
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
	local r k
	r=$(($(reasons "$vr" REDIRECT+PEER+NEIGH eth0.100 eth0.200) - r0))
	k=$(($(snmp "$vr" IpForwDatagrams) - k0))
	((r > 50)) || fail "only $r packets on the fast path"
	((k == 0)) || fail "the kernel forwarded $k packets, the fast path $r"
	# the frames crossed the switch tagged: the trunk's own ingress saw
	# them as VLAN frames (the kernel strips the tag before tc on eth0.N)
	(($(reasons "$vr" VLAN eth0) >= r)) || fail "the trunk saw $(reasons "$vr" VLAN eth0) VLAN frames"
	"$TCACCEL" unload --all --netns "$vr"
}

# --- host policy: netem and gact -----------------------------------------------
#
# bpf_redirect_peer() skips the egress veth's qdisc and egress filters, so
# `load` takes a veth that has either out of the peer-capable list: policy
# there must still apply to accelerated packets.

have_qdisc() { # KIND: can this kernel attach it?
	case "$1" in
	netem) probe_veth 'tc qdisc add dev p1 root netem loss 100%' ;;
	gact) probe_veth 'tc qdisc add dev p1 clsact && tc filter add dev p1 egress protocol all matchall action drop' ;;
	*) return 1 ;;
	esac
}

@test "host policy: netem loss on the egress veth and a gact drop filter stay in force on the fast path" {
	have_qdisc netem || skip "this kernel has no netem"
	have_qdisc gact || skip "this kernel has no gact/matchall"
	# client -> server leaves through to-server: 100% loss there
	in_ns "$NS_ROUTER" tc qdisc add dev "$RT_IF_SERVER" root netem loss 100%
	# server -> client leaves through to-client: an egress filter drops ICMP
	in_ns "$NS_ROUTER" tc qdisc add dev "$RT_IF_CLIENT" clsact
	in_ns "$NS_ROUTER" tc filter add dev "$RT_IF_CLIENT" egress pref 10 protocol ip \
		u32 match ip protocol 1 0xff action drop
	"$TCACCEL" load all --netns "$NS_ROUTER" --mode peer
	slots "$NS_ROUTER" "$RT_IF_CLIENT" "$RT_IF_SERVER"
	run jq -c 'map(.formatted.key)' < <(bpftool -j map dump pinned "$(pin_dir "$NS_ROUTER")/tcaccel_peers")
	assert_output "[]"
	local f0 k0 p0
	f0=$(fast)
	k0=$(kernel_fwd)
	p0=$(reasons "$NS_ROUTER" PEER "$RT_IF_CLIENT" "$RT_IF_SERVER")
	run in_ns "$NS_CLIENT" ping -c 5 -i 0.1 -W 1 "$SERVER_IP4"
	assert_failure
	run in_ns "$NS_SERVER" ping -c 5 -i 0.1 -W 1 "$CLIENT_IP4"
	assert_failure
	# both ways redirected (not peer: that would have skipped the policy)
	assert_equal "fast $(($(fast) - f0)), peer $(($(reasons "$NS_ROUTER" PEER "$RT_IF_CLIENT" "$RT_IF_SERVER") - p0)), kernel $(($(kernel_fwd) - k0))" \
		"fast 10, peer 0, kernel 0"
	# ... and dropped by the policy, as the kernel path would have been
	run in_ns "$NS_ROUTER" tc -s -j qdisc show dev "$RT_IF_SERVER" root
	(($(jq '.[0].drops' <<<"$output") >= 5)) || fail "netem dropped $(jq '.[0].drops' <<<"$output")"
	run in_ns "$NS_ROUTER" tc -s -j filter show dev "$RT_IF_CLIENT" egress
	(($(jq '[.. | objects | select(.kind? == "gact") | .stats.drops] | add' <<<"$output") >= 5)) ||
		fail "gact dropped too little: $output"
}

# --- nftables flowtables side by side --------------------------------------------
#
# The kernel's own software fast path: `flow add @ft` in the forward chain
# moves an established TCP/UDP flow to the flowtable, whose ingress hook
# forwards it from then on.  Same lab, same traffic, three ways:
#   kernel      every packet through ip_forward
#   flowtable   TCP after its handshake bypasses ip_forward; ICMP does not
#   tcaccel     TCP and ICMP on the fast path (no rules: plain redirect);
#               with the flowtable's rules it is `respect`: TCP like the
#               flowtable (it runs first, at tc ingress), ICMP to the kernel

have_flowtable() {
	in_ns "$NS_ROUTER" nft -f - 2>/dev/null <<-EOF
		table inet tcaprobe {
			flowtable f { hook ingress priority 0; devices = { $RT_IF_CLIENT, $RT_IF_SERVER }; }
		}
	EOF
	local rc=$?
	in_ns "$NS_ROUTER" nft delete table inet tcaprobe 2>/dev/null || true
	return "$rc"
}

flowtable_on() {
	in_ns "$NS_ROUTER" nft -f - <<-EOF
		table inet ft {
			flowtable f { hook ingress priority 0; devices = { $RT_IF_CLIENT, $RT_IF_SERVER }; }
			chain forward {
				type filter hook forward priority 0; policy accept;
				meta l4proto { tcp, udp } flow add @f
			}
		}
	EOF
}

# side PATH: a 4 MB TCP transfer and 5 pings; sets TCP_K TCP_N (router
# forwarded / server received during the transfer), PING_K, FAST.
side() {
	local out=$BATS_TEST_TMPDIR/received k0 n0 f0
	k0=$(kernel_fwd)
	n0=$(snmp "$NS_SERVER" IpInReceives)
	f0=$(fast)
	bg "$NS_SERVER" "$BATS_TEST_TMPDIR/socat.log" timeout 120 \
		socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$NS_SERVER" 5001
	timeout 120 nsenter --net="$(netns_path "$NS_CLIENT")" -- \
		socat -u "OPEN:$BATS_FILE_TMPDIR/data" "TCP:$SERVER_IP4:5001"
	wait "$BG_PID"
	assert_equal "$(sha256sum <"$out")" "$(sha256sum <"$BATS_FILE_TMPDIR/data")"
	TCP_K=$(($(kernel_fwd) - k0))
	TCP_N=$(($(snmp "$NS_SERVER" IpInReceives) - n0))
	k0=$(kernel_fwd)
	run in_ns "$NS_CLIENT" ping -c 5 -i 0.1 -W 2 "$SERVER_IP4"
	assert_success
	PING_K=$(($(kernel_fwd) - k0))
	FAST=$(($(fast) - f0))
	echo "# $1: tcp: router forwarded $TCP_K of $TCP_N the server received; ping: kernel $PING_K; tcaccel $FAST" >&3
}

@test "flowtable side by side: kernel, nft flowtable and tcaccel all deliver; each accelerates what it says" {
	have_flowtable || skip "this kernel has no nftables flowtables"
	side kernel
	((TCP_K >= TCP_N)) || fail "kernel path: forwarded $TCP_K, server received $TCP_N"
	assert_equal "$PING_K" 10

	flowtable_on
	side flowtable
	# after the handshake the flow left ip_forward; conntrack says offloaded
	((TCP_K * 5 < TCP_N)) || fail "flowtable: forwarded $TCP_K of $TCP_N"
	assert_equal "$PING_K" 10

	# tcaccel with the flowtable's rules: respect, established TCP only
	run "$TCACCEL" load all --netns "$NS_ROUTER"
	assert_success
	assert_output --partial "firewall mode respect"
	slots "$NS_ROUTER" "$RT_IF_CLIENT" "$RT_IF_SERVER"
	side "tcaccel respect (+ flowtable)"
	((TCP_K * 5 < TCP_N)) || fail "respect: forwarded $TCP_K of $TCP_N"
	((FAST * 2 > TCP_N)) || fail "respect: tcaccel forwarded $FAST of $TCP_N"
	assert_equal "$PING_K" 10
	(($(reasons "$NS_ROUTER" CT_PROTO "$RT_IF_CLIENT") >= 5))

	# tcaccel alone, no rules: everything routed, ICMP too
	"$TCACCEL" unload --all --netns "$NS_ROUTER"
	in_ns "$NS_ROUTER" nft flush ruleset
	"$TCACCEL" load all --netns "$NS_ROUTER"
	slots "$NS_ROUTER" "$RT_IF_CLIENT" "$RT_IF_SERVER"
	side tcaccel
	((TCP_K == 0)) || fail "tcaccel: the kernel forwarded $TCP_K of $TCP_N"
	assert_equal "$PING_K" 0
}
