# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/doctor.sh - `tcaccel doctor`: what this machine has, and the
# fix for what it lacks.  Sourced.

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_DOCTOR_SH:-}" ]] && return 0
readonly TCACCEL_DOCTOR_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/sockmap.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/features.sh"

# check LEVEL WHAT FIX CMD...: print "ok WHAT" when CMD succeeds, else
# "FAIL"/"warn" WHAT and the fix.  FAILs are counted in DOCTOR_FAILS.
DOCTOR_FAILS=0
check() {
	local level=$1 what=$2 fix=$3
	shift 3
	if "$@" >/dev/null 2>&1; then
		printf '  ok    %s\n' "$what"
	elif [[ "$level" == fail ]]; then
		printf '  FAIL  %s\n        fix: %s\n' "$what" "$fix"
		DOCTOR_FAILS=$((DOCTOR_FAILS + 1))
	else
		printf '  warn  %s\n        %s\n' "$what" "$fix"
	fi
}

is_fs() { [[ "$(stat -f -c %T "$1" 2>/dev/null)" == "$2" ]]; }
sysctl_is() { [[ "$(cat "/proc/sys/$1" 2>/dev/null)" == "$2" ]]; }
tc_has_libbpf() { tc -V 2>&1 | grep -q libbpf; }

cmd_doctor() {
	cli_parse doctor "$@"
	echo "tcaccel doctor"
	check fail "running as root" "run as root (sudo make doctor)" test "$EUID" -eq 0
	local c tools=(bpftool tc ip jq nsenter)
	# clang builds the object: a checkout needs it, an installed package not.
	[[ -f "$TCACCEL_ROOT/Makefile" ]] && tools=(clang "${tools[@]}")
	for c in "${tools[@]}"; do
		check fail "$c installed" "make deps" have "$c"
	done
	check fail "tc loads BTF maps (iproute2 built with libbpf)" \
		"install Debian 12's iproute2 6.1 (built with libbpf)" tc_has_libbpf
	check warn "kernel BTF (/sys/kernel/btf/vmlinux)" "bpftool output will be less readable" \
		test -e /sys/kernel/btf/vmlinux
	check warn "bpffs mounted on $TCACCEL_BPFFS" \
		"load mounts it (or: mount -t bpf bpf $TCACCEL_BPFFS)" is_fs "$TCACCEL_BPFFS" bpf_fs
	check warn "tracefs mounted on $TCACCEL_TRACEFS" \
		"trace mounts it (or: mount -t tracefs tracefs $TCACCEL_TRACEFS)" test -e "$TCACCEL_TRACEFS/trace_pipe"
	if have bpftool && [[ $EUID -eq 0 ]]; then
		local helpers h
		helpers=$(bpftool -j feature probe kernel 2>/dev/null | jq -r '.helpers.sched_cls_available_helpers[]?')
		for h in bpf_fib_lookup bpf_redirect bpf_skb_pull_data bpf_redirect_peer bpf_redirect_neigh; do
			check fail "helper $h available to tc programs" \
				"a kernel >= 5.10 built with CONFIG_BPF_SYSCALL and CONFIG_NET_CLS_BPF" \
				grep -qw "$h" <<<"$helpers"
		done
	fi
	check fail "object $TCACCEL_OBJ built" "make" test -f "$TCACCEL_OBJ"
	check warn "net.ipv4.ip_forward=1 in this netns" \
		"a router needs it: sysctl -w net.ipv4.ip_forward=1 (the lab sets it in its own namespaces)" \
		sysctl_is net/ipv4/ip_forward 1
	check warn "net.ipv6.conf.all.forwarding=1 in this netns" \
		"for IPv6 routing: sysctl -w net.ipv6.conf.all.forwarding=1" \
		sysctl_is net/ipv6/conf/all/forwarding 1
	sockmap_doctor
	features_doctor
	echo
	if ((DOCTOR_FAILS)); then
		echo "$DOCTOR_FAILS problem(s) found"
		return 1
	fi
	echo "all good"
}
