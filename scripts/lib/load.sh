# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/load.sh - `tcaccel load` and `tcaccel unload`.  Sourced.
#
# load is batched: one `ip -j link`, one `tc -j qdisc`, one sysctl read
# (globbed *inside* the netns: /proc/sys/net shows the reader's namespace)
# and one `bpftool batch` for all map writes, whatever the number of
# devices; the tc work is two `tc -b` runs (see attach.sh).

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_LOAD_SH:-}" ]] && return 0
readonly TCACCEL_LOAD_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/attach.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cfgmap.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/firewall.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/guards.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/policy.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/features.sh"

# mode_index NAME: the mode's value (enum tcaccel_mode).
mode_index() {
	local i
	for i in "${!TCACCEL_MODES[@]}"; do
		[[ "${TCACCEL_MODES[i]}" == "$1" && $i -gt 0 ]] && { echo "$i"; return 0; }
	done
	return 1
}

# load_devs NS IFACE LINKS: "name ifindex" of the devices `load IFACE` means
# in NS (LINKS: its `ip -j link show`), or an error that says why not.
# A bridge or bond port's packets belong to its master: the kernel hands
# them to the master before IP sees them, and routes them with the master
# as input device.  Load on the master instead.
load_devs() {
	local ns=$1 iface=$2 links=$3 name idx type master n=0
	while read -r name idx type master; do
		[[ -n "$name" ]] || continue
		if [[ "$iface" == all ]]; then
			[[ "$type" == ether && "$master" == - ]] || continue
		elif [[ "$name" == "$iface" ]]; then
			[[ "$type" == ether ]] ||
				die "$name is not an Ethernet device (link/$type): tcaccel parses Ethernet frames"
			[[ "$master" == - ]] ||
				die "$name is a port of $master: its packets belong to $master; load on $master instead"
		else
			continue
		fi
		echo "$name $idx"
		n=$((n + 1))
	done < <(jq -r '.[] | "\(.ifname) \(.ifindex) \(.link_type) \(.master // "-")"' <<<"$links")
	((n)) && return 0
	[[ "$iface" == all ]] && die "no Ethernet interface in netns $(ns_label "$ns")"
	die "device '$iface' not found in netns $(ns_label "$ns")"
}

# load_sysctls NS: "dev fwd4 fwd6 flags" for every device of NS, in one
# nsenter.  rp_filter: the kernel applies max(conf/all, conf/DEV) to IPv4,
# so do we.  IPv6: ip6_forward() forwards when conf/all/forwarding is on or
# (6.17+) the ingress device has force_forwarding (flag NO_FWD6 otherwise).
# Read at load time - load again after changing them.
load_sysctls() {
	local ns=$1 path val dev all_rpf=0 all6=0 rpf flags
	local -A fwd4=() fwd6=() rpfs=() force6=()
	while IFS=: read -r path val; do
		dev=${path%/*}
		dev=${dev##*/}
		case "$path" in
		*/ipv4/conf/*/forwarding) fwd4[$dev]=$val ;;
		*/ipv6/conf/all/forwarding) all6=$val; fwd6[$dev]=$val ;;
		*/ipv6/conf/*/forwarding) fwd6[$dev]=$val ;;
		*/ipv6/conf/*/force_forwarding) force6[$dev]=$val ;;
		*/ipv4/conf/all/rp_filter) all_rpf=$val ;;
		*/ipv4/conf/*/rp_filter) rpfs[$dev]=$val ;;
		*) ;;
		esac
	done < <(in_ns "$ns" bash -c 'shopt -s nullglob; grep -H . /proc/sys/net/ipv4/conf/*/forwarding \
		/proc/sys/net/ipv6/conf/*/forwarding /proc/sys/net/ipv6/conf/*/force_forwarding \
		/proc/sys/net/ipv4/conf/*/rp_filter' 2>/dev/null)
	for dev in "${!fwd4[@]}"; do
		rpf=${rpfs[$dev]:-0}
		((all_rpf > rpf)) && rpf=$all_rpf
		case "$rpf" in
		1) flags=$TCACCEL_F_RPF_STRICT ;;
		2) flags=$TCACCEL_F_RPF_LOOSE ;;
		*) flags=0 ;;
		esac
		[[ "$all6" == 1 || "${force6[$dev]:-0}" == 1 ]] || flags=$((flags | TCACCEL_F_NO_FWD6))
		echo "$dev ${fwd4[$dev]} ${fwd6[$dev]:-0} $flags"
	done
}

# load_policy NS FIREWALL: the netns-wide flags for host policy outside
# netfilter (policy.sh), or a refusal; reports what it found.
load_policy() {
	local ns=$1 fw=$2 flags=0 rules marks xfrm
	xfrm=$(xfrm_report "$ns")
	if [[ -n "$xfrm" ]]; then
		log "tcaccel: IPsec policies in netns $(ns_label "$ns"):"
		log "    ${xfrm//$'\n'/$'\n    '}"
	fi
	rules=$(fwmark_rules "$ns")
	if [[ -n "$rules" ]]; then
		flags=$TCACCEL_F_MARK_RULES
		marks=$(nf_sets_marks "$ns")
		if [[ -n "$marks" && "$fw" != bypass ]]; then
			die "policy routing by mark in netns $(ns_label "$ns") is fed by netfilter rules that set marks:
    ${rules//$'\n'/$'\n    '}
    ${marks//$'\n'/$'\n    '}
  Those rules run in PREROUTING, which the fast path skips: its packets would be routed without
  their mark.  tcaccel does not accelerate this netns (--firewall bypass skips the rules anyway)."
		fi
		features_probe
		if ((FEAT[fib_mark])); then
			flags=$((flags | TCACCEL_F_FIB_MARK))
		else
			info "fwmark ip rules in netns $(ns_label "$ns") and this kernel's FIB lookup ignores marks (before 6.10): marked packets stay on the stack (POLICY_MARK)"
		fi
	fi
	echo "$flags"
}

# load_firewall NS FIREWALL: what the netns's netfilter means for this load,
# "GATE BYPASS" (0/1 each); refuses when told to, when the ruleset cannot
# be read (fail closed: unread rules may be rules we would bypass), when
# bypass would step over IPVS, and when the ruleset uses the gate's labels.
load_firewall() {
	local ns=$1 fw=$2 report labels gate=0 bypass=0
	report=$(firewall_report "$ns")
	if [[ -n "$report" ]]; then
		log "tcaccel: netfilter on the forward path in netns $(ns_label "$ns"):"
		log "    ${report//$'\n'/$'\n    '}"
		if grep -q '^cannot read' <<<"$report" && [[ -z "$fw" ]]; then
			die "cannot inspect netfilter in netns $(ns_label "$ns") (above): tcaccel will not guess whether it would bypass rules.
  Fix that, or say what to do: --firewall respect (accelerate only flows conntrack established through the rules, whatever they are), bypass, or refuse."
		fi
		if grep -q '^ipvs:' <<<"$report" && [[ "${fw:-respect}" == bypass ]]; then
			die "IPVS has virtual services in netns $(ns_label "$ns"): bypass would forward their replies without IPVS's rewrite.
  --firewall respect keeps IPVS-owned flows on the stack."
		fi
		case "${fw:-respect}" in
		refuse)
			die "refusing to load (--firewall refuse): bpf_redirect skips PREROUTING/FORWARD/POSTROUTING.
  --firewall respect accelerates only flows these rules accepted (conntrack-gated);
  --firewall bypass accelerates everything and skips them." ;;
		bypass)
			bypass=1
			warn "accelerated packets will BYPASS the rules above (--firewall bypass)"
			if grep -qE 'hook (pre|post)routing|-A (PREROUTING|POSTROUTING) ' <<<"$report"; then
				warn "bypass skips NAT too: NATed flows (masquerade, published ports) break; respect applies their NAT on the fast path"
			fi ;;
		*)
			gate=1
			info "firewall mode respect: only flows conntrack has established (their first packets crossed the rules above) are accelerated; see docs/firewall.md" ;;
		esac
	elif [[ "$fw" == respect ]]; then
		gate=1
	fi
	if ((gate)); then
		labels=$(gate_label_conflicts "$ns")
		[[ -z "$labels" ]] || die "the ruleset in netns $(ns_label "$ns") uses conntrack labels $GATE_LABEL_FWD_ORIG-$GATE_LABEL_OK_REPLY, which --firewall respect uses to prove the rules accepted a flow:
    ${labels//$'\n'/$'\n    '}"
	fi
	echo "$gate $bypass"
}

cmd_load() {
	cli_parse load "$@"
	local ns=${OPT[netns]:-} iface=${ARGS[0]:-} mode=${OPT[mode]} fw=${OPT[firewall]:-}
	local obj=${OPT[obj]:-$TCACCEL_OBJ} debug=${OPT[debug]:-0} mode_i
	((${#ARGS[@]} <= 1)) || die "one interface at a time (got: ${ARGS[*]})"
	# --force is the old spelling of --firewall bypass.
	[[ -z "${OPT[force]:-}" ]] || fw=${fw:-bypass}
	[[ -n "$iface" ]] || die "which interface? e.g. tcaccel load eth0 (or make load IFACE=eth0; IFACE=all for every one)"
	[[ "$iface" == all ]] || check_ifname "$iface"
	check_netns_name "$ns"
	need_root tcaccel load
	require_cmd tc bpftool jq nsenter flock
	[[ -f "$obj" ]] || die "BPF object $obj not built: run 'make' first"
	check_netns "$ns"
	mode_i=$(mode_index "$mode") || die "unknown mode '$mode' (modes: ${TCACCEL_MODES[*]:1})"
	bpffs_ensure
	tcaccel_lock

	# One look at the namespace for all devices.
	# (Command substitutions, not < <(...): a refusal inside must stop us.)
	local links sel name idx
	local -a devs=()
	local -A ifx=()
	links=$(in_ns "$ns" ip -j link show)
	sel=$(load_devs "$ns" "$iface" "$links")
	while read -r name idx; do
		devs+=("$name")
		ifx[$name]=$idx
	done <<<"$sel"

	local gate bypass decision netflags
	decision=$(load_firewall "$ns" "$fw")
	read -r gate bypass <<<"$decision"
	# The kernel, probed from its BTF: refuse a respect mode that would
	# accelerate nothing here; flags for what it lacks.
	features_probe
	((gate == 0)) || features_gate_check "$obj"
	[[ -n "${OPT[obj]:-}" ]] || obj=$(features_obj "$obj")
	netflags=$(load_policy "$ns" "${fw:-respect}")
	netflags=$((netflags | $(features_cfg_flags)))
	route_mtu_check "$ns"
	pin_dirs_check "$ns"

	local -A was=() fwd4=() fwd6=() rpf=()
	local _i id f4 f6 fl
	while read -r _i name id; do
		[[ -n "$name" ]] && was[$name]=1
	done < <(attached_ifaces "$ns")
	while read -r name f4 f6 fl; do
		fwd4[$name]=$f4 fwd6[$name]=$f6 rpf[$name]=$fl
	done < <(load_sysctls "$ns")
	for name in "${devs[@]}"; do
		[[ "${fwd4[$name]:-0}" == 1 ]] || warn "IPv4 forwarding is off on $name in netns $(ns_label "$ns"): IPv4 will not be accelerated (counted FIB_FWD_DISABLED); enable with: sysctl -w net.ipv4.conf.all.forwarding=1"
		[[ "${fwd6[$name]:-0}" == 1 ]] || warn "IPv6 forwarding is off on $name in netns $(ns_label "$ns"): IPv6 will not be accelerated; enable with: sysctl -w net.ipv6.conf.all.forwarding=1"
	done
	((gate == 0)) || tracking_ensure "$ns"
	attach_devs "$ns" "$obj" "${devs[@]}"

	local -a common=(mode="$mode_i" debug="$debug") specs=()
	local extra=0 tcp udp
	if ((gate)); then
		read -r tcp udp <<<"$(ct_timeouts "$ns")"
		common+=(ct_timeout_tcp="$tcp" ct_timeout_udp="$udp")
		extra=$TCACCEL_F_CT_GATE
	fi
	((bypass == 0)) || extra=$((extra | TCACCEL_F_FW_BYPASS))
	(($(xfrm_refresh "$ns") == 0)) || extra=$((extra | TCACCEL_F_XFRM))
	common+=(flags=$((extra | netflags)))
	for name in "${devs[@]}"; do
		specs+=("$name:${ifx[$name]}:${rpf[$name]:-0}:${was[$name]:-0}")
	done
	cfg_write "$ns" "${common[@]}" -- "${specs[@]}"

	local -A prog_of=()
	local fwmode="" attached
	((gate == 0)) || fwmode=", firewall respect"
	((bypass == 0)) || fwmode=", firewall BYPASSED"
	attached=$(attached_ifaces "$ns")
	while read -r _i name id; do
		[[ -n "$name" ]] && prog_of[$name]=$id
	done <<<"$attached"
	for name in "${devs[@]}"; do
		id=${prog_of[$name]:-}
		[[ -n "$id" ]] || die "filter not found on $name after loading"
		info "loaded on $name (netns $(ns_label "$ns")): prog id $id, mode $mode${fwmode}, pins $(pin_dir "$ns")"
	done
	peers_refresh "$ns"
	cfg_gc "$ns" "$attached"
	tracking_gc "$ns"
}

# unload_devs NS DEV...: detach from every DEV with a constant number of
# commands (tc and bpftool in batch mode), however many devices.
unload_devs() {
	local ns=$1 dev
	shift
	local -a devs=("$@") ours=() exists=() idxs=()
	local -A idx_of=() attached=() configured=()
	local _i n id idx
	while read -r n idx; do
		[[ -n "$n" ]] && idx_of[$n]=$idx
	done < <(in_ns "$ns" ip -j link show | jq -r '.[] | "\(.ifname) \(.ifindex)"')
	while read -r _i n id; do
		[[ -n "$n" ]] && attached[$n]=$id
	done < <(attached_ifaces "$ns")
	while read -r idx; do
		[[ -n "$idx" ]] && configured[$idx]=1
	done < <(cfg_entries "$ns" | jq -r '.[].ifindex')
	for dev in "${devs[@]}"; do
		if [[ -z "${idx_of[$dev]:-}" ]]; then
			info "$dev not found in netns $(ns_label "$ns"): nothing attached"
			continue
		fi
		exists+=("$dev")
		[[ -z "${configured[${idx_of[$dev]}]:-}" ]] || idxs+=("${idx_of[$dev]}")
		if [[ -n "${attached[$dev]:-}" ]]; then
			ours+=("$dev")
		else
			info "not loaded on $dev (netns $(ns_label "$ns"))"
		fi
	done
	((${#exists[@]})) || return 0
	# Config first, so packets still in flight see "disabled", then filters.
	((${#idxs[@]} == 0)) || cfg_delete "$ns" "${idxs[@]}"
	if ((${#ours[@]})); then
		detach_devs "$ns" "${ours[@]}"
		for dev in "${ours[@]}"; do
			info "unloaded from $dev (netns $(ns_label "$ns"))"
		done
	fi
}

# pins_gc NS: remove NS's pins when no interface there uses them any more.
pins_gc() {
	local ns=$1 root dir
	root=$(pin_root "$ns")
	dir=$(pin_dir "$ns")
	[[ -d "$root" ]] || return 0
	[[ -z "$(attached_ifaces "$ns")" ]] || return 0
	rm -f "$dir"/tcaccel_*
	# tc made tc/globals plus the xdp and ip symlinks; remove only if now empty.
	rmdir "$dir" 2>/dev/null || return 0
	rm -f "$root/xdp" "$root/ip"
	rmdir "$root/tc" "$root" 2>/dev/null || true
	rmdir "$TCACCEL_PIN_BASE/ns" "$TCACCEL_PIN_BASE" 2>/dev/null || true
}

cmd_unload() {
	cli_parse unload "$@"
	local ns=${OPT[netns]:-} iface=${ARGS[0]:-} all=${OPT[all]:-0}
	((${#ARGS[@]} <= 1)) || die "one interface at a time (got: ${ARGS[*]})"
	[[ "$iface" != all ]] || { all=1; iface=""; }
	[[ -z "$iface" ]] || check_ifname "$iface"
	check_netns_name "$ns"
	need_root tcaccel unload
	require_cmd tc bpftool jq nsenter flock
	tcaccel_lock
	if [[ -n "$ns" ]] && ! netns_exists "$ns"; then
		# The namespace is gone and took its devices along; only pins may remain.
		if [[ -d "$(pin_root "$ns")" ]]; then
			rm -rf -- "$(pin_root "$ns")"
			info "netns '$ns' is gone: removed its stale pins"
		else
			info "netns '$ns' not found: nothing to unload"
		fi
		return 0
	fi
	local -a devs=()
	if ((all)); then
		mapfile -t devs < <(attached_ifaces "$ns" | awk '{ print $2 }')
		((${#devs[@]})) || info "tcaccel is not loaded in netns $(ns_label "$ns")"
	else
		[[ -n "$iface" ]] || die "which interface? e.g. tcaccel unload eth0 (or all)"
		devs=("$iface")
	fi
	((${#devs[@]} == 0)) || unload_devs "$ns" "${devs[@]}"
	if [[ -d "$(pin_root "$ns")" ]]; then
		cfg_gc "$ns"
		tracking_gc "$ns"
		pins_gc "$ns"
	fi
}
