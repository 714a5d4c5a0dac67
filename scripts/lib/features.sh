# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/features.sh - what the running kernel offers tcaccel, found by
# probing (never by guessing from the version alone), and what `load` and
# `doctor` do with it.  Sourced by load.sh and doctor.sh.
#
# The probes read the kernel's own BTF (/sys/kernel/btf/vmlinux and, for a
# modular conntrack, /sys/kernel/btf/nf_conntrack): a UAPI enumerator such
# as BPF_FIB_LOOKUP_SKIP_NEIGH is in the kernel's BTF exactly when the
# kernel was built from headers that have it, i.e. when bpf_fib_lookup()
# accepts that flag (older kernels answer -EINVAL to flags they do not
# know: the whole lookup fails).  BTF strings are read with tr/grep, not
# bpftool, so the probe costs milliseconds; only the conntrack options'
# size needs `bpftool btf dump` (respect mode and doctor only).
#
#   feature              upstream what tcaccel does without it
#   FIB SKIP_NEIGH       6.3      neigh mode and the source check use a plain
#                                 lookup (cfg flag TCACCEL_F_NO_SKIP_NEIGH)
#   FIB MARK             6.10     with fwmark ip rules, marked packets go to
#                                 the stack (load: TCACCEL_F_FIB_MARK unset)
#   FIB TBID/SRC         6.5/6.7  not used
#   conntrack kfuncs     6.0      firewall respect refused at load
#   bpf_ct_opts size     12 (6.1), 16 later (accepts 12 too)
# Stable kernels get such flags backported: Debian's 6.1.0-47 and -57 have
# SKIP_NEIGH, TBID and SRC (not MARK).  Hence the probe, not the version.
#
# Verified in the VMs of scripts/vmtest (Debian 6.1 and 6.12) and on 6.18.

[[ -n "${TCACCEL_FEATURES_SH:-}" ]] && return 0
readonly TCACCEL_FEATURES_SH=1
# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"

: "${TCACCEL_BTF_DIR:=/sys/kernel/btf}"

# The kfuncs' options size every kernel since 6.0 accepts (NF_BPF_CT_OPTS_OLD_SZ).
readonly CT_OPTS_OLD_SZ=12

declare -gA FEAT=()

# feat_names FILE: the names (types, members, enumerators) of a BTF blob
# that the probes ask about, one a line.
feat_names() {
	[[ -r "$1" ]] || return 0
	tr '\0' '\n' <"$1" 2>/dev/null |
		grep -E '^(BPF_FIB_LOOKUP_[A-Z_]+|BPF_FUNC_(fib_lookup|redirect|redirect_peer|redirect_neigh|check_mtu|skb_pull_data)|bpf_skb_ct_lookup|bpf_skb_ct_alloc|bpf_ct_[a-z_]+|bpf_ct_opts)$' || true
}

# features_probe: fill FEAT[] (1 = present, 0 = absent) for this kernel.
# Idempotent; cheap.  Keys:
#   btf fib_skip_neigh fib_tbid fib_src fib_mark redirect_peer
#   redirect_neigh check_mtu ct_kfuncs ct_change_timeout ct_set_nat_info
#   ct_where (vmlinux, nf_conntrack, "module nf_conntrack not loaded", none)
features_probe() {
	[[ -z "${FEAT[probed]:-}" ]] || return 0
	local vmlinux=$TCACCEL_BTF_DIR/vmlinux names ct=""
	FEAT[probed]=1
	FEAT[kernel]=$(uname -r)
	if [[ ! -r "$vmlinux" ]]; then
		FEAT[btf]=0
		local k
		for k in fib_skip_neigh fib_tbid fib_src fib_mark redirect_peer redirect_neigh \
			check_mtu ct_kfuncs ct_change_timeout ct_set_nat_info; do
			FEAT[$k]=0
		done
		FEAT[ct_where]=none
		return 0
	fi
	FEAT[btf]=1
	names=$'\n'$(feat_names "$vmlinux")$'\n'
	# (a pattern match, not grep: a process costs ~0.2 s in a TCG guest)
	_has() { [[ "$names" == *$'\n'"$1"$'\n'* ]]; }
	FEAT[fib_skip_neigh]=0 FEAT[fib_tbid]=0 FEAT[fib_src]=0 FEAT[fib_mark]=0
	_has BPF_FIB_LOOKUP_SKIP_NEIGH && FEAT[fib_skip_neigh]=1
	_has BPF_FIB_LOOKUP_TBID && FEAT[fib_tbid]=1
	_has BPF_FIB_LOOKUP_SRC && FEAT[fib_src]=1
	_has BPF_FIB_LOOKUP_MARK && FEAT[fib_mark]=1
	FEAT[redirect_peer]=0 FEAT[redirect_neigh]=0 FEAT[check_mtu]=0
	_has BPF_FUNC_redirect_peer && FEAT[redirect_peer]=1
	_has BPF_FUNC_redirect_neigh && FEAT[redirect_neigh]=1
	_has BPF_FUNC_check_mtu && FEAT[check_mtu]=1
	# Conntrack's kfuncs live in nf_conntrack: vmlinux when built in, the
	# module's own BTF when it is a module (present once it is loaded).
	if _has bpf_skb_ct_lookup; then
		ct=$vmlinux
		FEAT[ct_where]=vmlinux
	elif [[ -r "$TCACCEL_BTF_DIR/nf_conntrack" ]]; then
		ct=$TCACCEL_BTF_DIR/nf_conntrack
		names=$'\n'$(feat_names "$ct")$'\n'
		FEAT[ct_where]=nf_conntrack
	elif modinfo nf_conntrack >/dev/null 2>&1; then
		FEAT[ct_where]="module nf_conntrack not loaded"
	else
		FEAT[ct_where]=none
	fi
	FEAT[ct_kfuncs]=0 FEAT[ct_change_timeout]=0 FEAT[ct_set_nat_info]=0
	if [[ -n "$ct" ]]; then
		_has bpf_skb_ct_lookup && _has bpf_ct_release && FEAT[ct_kfuncs]=1
		_has bpf_ct_change_timeout && FEAT[ct_change_timeout]=1
		_has bpf_ct_set_nat_info && FEAT[ct_set_nat_info]=1
		# (a modular NAT registers it from nf_nat, with BTF of its own)
		if ((FEAT[ct_set_nat_info] == 0)) && [[ -r "$TCACCEL_BTF_DIR/nf_nat" ]]; then
			names=$'\n'$(feat_names "$TCACCEL_BTF_DIR/nf_nat")$'\n'
			_has bpf_ct_set_nat_info && FEAT[ct_set_nat_info]=1
		fi
	fi
	FEAT[ct_btf]=$ct
	unset -f _has
}

# btf_struct_size FILE STRUCT [BASE]: the size of STRUCT in a BTF blob
# (BASE: vmlinux, for a module's split BTF); empty when it has none.
btf_struct_size() {
	local -a base=()
	[[ -n "${3:-}" && "$1" != "$3" ]] && base=(-B "$3")
	bpftool btf dump file "$1" "${base[@]}" format raw 2>/dev/null |
		awk -v s="'$2'" '$2 == "STRUCT" && $3 == s && !f { sub(/^size=/, "", $4); print $4; f = 1 }'
}

# features_ct_opts_sizes: the bpf_ct_opts sizes this kernel's kfuncs accept
# ("12", or "12 16"); empty without the kfuncs.  6.1 checks opts__sz against
# its own struct only (12 bytes); later kernels grew the struct to 16 and
# accept the old size as well.
features_ct_opts_sizes() {
	features_probe
	((FEAT[ct_kfuncs])) || return 0
	if [[ -z "${FEAT[ct_opts_sz]:-}" ]]; then
		FEAT[ct_opts_sz]=$(btf_struct_size "${FEAT[ct_btf]}" bpf_ct_opts "$TCACCEL_BTF_DIR/vmlinux")
	fi
	local k=${FEAT[ct_opts_sz]}
	[[ -n "$k" ]] || return 0
	if ((k > CT_OPTS_OLD_SZ)); then echo "$CT_OPTS_OLD_SZ $k"; else echo "$k"; fi
}

# features_cfg_flags: the kernel-describing cfg flag bits for `load`.
features_cfg_flags() {
	features_probe
	local f=0
	((FEAT[fib_skip_neigh])) || f=$((f | TCACCEL_F_NO_SKIP_NEIGH))
	echo "$f"
}

# features_gate_check OBJ: die unless the conntrack gate can work here.
features_gate_check() {
	local obj=$1 obj_sz ok
	if ((FEAT[ct_kfuncs] == 0)) && [[ "${FEAT[ct_where]}" == "module nf_conntrack not loaded" ]]; then
		# (tracking_ensure's conntrack rule would load it a moment later)
		modprobe -q nf_conntrack 2>/dev/null || true
		FEAT=()
		features_probe
	fi
	((FEAT[ct_kfuncs])) ||
		die "firewall respect would accelerate nothing here: kernel $(uname -r) has no conntrack kfuncs (bpf_skb_ct_lookup: Linux 6.0+ with nf_conntrack and BTF; found: ${FEAT[ct_where]}).
  Use --firewall refuse (keep the rules in charge, no fast path) or --firewall bypass (skip them)."
	ok=$(features_ct_opts_sizes)
	obj_sz=$(btf_struct_size "$obj" bpf_ct_opts)
	[[ -z "$ok" || -z "$obj_sz" ]] && return 0
	grep -qw -- "$obj_sz" <<<"$ok" ||
		die "firewall respect would accelerate nothing here: $obj passes a ${obj_sz}-byte bpf_ct_opts, kernel $(uname -r)'s conntrack kfuncs accept only ${ok// /, } bytes (every lookup would fail, every packet counted CT_MISS).
  Rebuild with a ${CT_OPTS_OLD_SZ}-byte struct bpf_ct_opts (bpf/include/conntrack.h), or use --firewall refuse or bypass."
}

# features_obj OBJ: the object to load.  Without the conntrack kfuncs the
# verifier refuses a call to one even where the gate flag would never reach
# it: the object built without the gate (OBJ's -noct twin) then.
features_obj() {
	local obj=$1 noct=${1%.bpf.o}-noct.bpf.o
	if ((FEAT[ct_kfuncs] == 0)); then
		if [[ -f "$noct" ]]; then
			obj=$noct
		else
			warn "no conntrack kfuncs in this kernel and no $noct: loading $obj may fail in the verifier"
		fi
	fi
	echo "$obj"
}

# features_doctor: the feature table `doctor` prints.
features_doctor() {
	features_probe
	local sizes
	echo "kernel features ($(uname -r), from its BTF):"
	_row() { # PRESENT NAME SINCE WITHOUT
		if (($1)); then
			printf '  yes   %-34s\n' "$2"
		else
			printf '  no    %-34s %s\n' "$2 ($3)" "$4"
		fi
	}
	if ((FEAT[btf] == 0)); then
		echo "  no    kernel BTF ($TCACCEL_BTF_DIR/vmlinux): features unknown; the object needs BTF to load (CO-RE, kfuncs)"
		unset -f _row
		return 0
	fi
	_row "${FEAT[redirect_peer]}" bpf_redirect_peer 5.10 "peer mode cannot load"
	_row "${FEAT[redirect_neigh]}" bpf_redirect_neigh 5.10 "neigh mode cannot load"
	_row "${FEAT[check_mtu]}" bpf_check_mtu 5.12 "the object cannot load (GSO segment check)"
	_row "${FEAT[fib_skip_neigh]}" BPF_FIB_LOOKUP_SKIP_NEIGH "upstream 6.3" \
		"neigh mode and the source check use a plain lookup (same decisions)"
	_row "${FEAT[fib_tbid]}" BPF_FIB_LOOKUP_TBID "upstream 6.5" "not used by tcaccel"
	_row "${FEAT[fib_src]}" BPF_FIB_LOOKUP_SRC "upstream 6.7" "not used by tcaccel"
	_row "${FEAT[fib_mark]}" BPF_FIB_LOOKUP_MARK "upstream 6.10" \
		"with fwmark ip rules, marked packets stay on the stack (POLICY_MARK)"
	if ((FEAT[ct_kfuncs])); then
		sizes=$(features_ct_opts_sizes)
		printf '  yes   %-34s in %s; bpf_ct_opts sizes accepted: %s\n' "conntrack kfuncs" \
			"${FEAT[ct_where]}" "${sizes:-unknown}"
		_row "${FEAT[ct_change_timeout]}" bpf_ct_change_timeout "upstream 6.0" \
			"the object cannot load (respect refreshes timeouts)"
		_row "${FEAT[ct_set_nat_info]}" bpf_ct_set_nat_info "upstream 6.1" \
			"not in vmlinux, nf_conntrack or a loaded nf_nat (NAT on the fast path needs it)"
	elif [[ "${FEAT[ct_where]}" == "module nf_conntrack not loaded" ]]; then
		printf '  ?     %-34s %s\n' "conntrack kfuncs" \
			"module nf_conntrack not loaded: firewall respect loads it and checks again"
	else
		printf '  no    %-34s %s\n' "conntrack kfuncs (6.0)" \
			"firewall respect refused at load (found: ${FEAT[ct_where]})"
	fi
	unset -f _row
}
