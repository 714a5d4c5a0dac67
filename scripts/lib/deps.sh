# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/deps.sh - `tcaccel deps`: the Debian packages tcaccel needs,
# installed with apt.  Sourced.

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_DEPS_SH:-}" ]] && return 0
readonly TCACCEL_DEPS_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"

# build: make clang llvm libbpf-dev libc6-dev; run: bpftool iproute2 jq
# util-linux (nsenter) procps (sysctl) nftables iptables conntrack; lab and tests:
# iputils-ping socat tcpdump python3 bats* shellcheck; sockmap demo: iperf3;
# the unit and man page tests: systemd (systemd-analyze) groff-base man-db;
# make bench: netsniff-ng (trafgen) sockperf gnuplot-nox; linux-perf for profiling;
# make lint: pyflakes3 (the tests' Python); make deb: debhelper dpkg-dev lintian;
# the Ansible role: ansible-core python3-apt; make vmtest: qemu-system-x86
# busybox-static kmod (depmod, modprobe) cpio xz-utils zstd.
readonly -a DEB_PACKAGES=(
	make clang llvm libbpf-dev libc6-dev bpftool iproute2 jq util-linux procps
	nftables iptables conntrack iputils-ping socat tcpdump python3 iperf3
	bats bats-assert bats-support shellcheck systemd groff-base man-db
	netsniff-ng sockperf gnuplot-nox linux-perf pyflakes3
	debhelper dpkg-dev lintian ansible-core python3-apt
	qemu-system-x86 busybox-static kmod cpio xz-utils zstd
)

cmd_deps() {
	cli_parse deps "$@"
	need_root tcaccel deps
	have dpkg-query || die "deps knows Debian's apt only; install these yourself: ${DEB_PACKAGES[*]}"
	local p missing=()
	for p in "${DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		info "all ${#DEB_PACKAGES[@]} packages present"
		return 0
	fi
	info "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	info "installed ${#missing[@]} package(s)"
}
