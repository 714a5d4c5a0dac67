# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/runbooks/lib.bash - helpers for the runbook hooks (tests/runbooks/
# NAME.bash).  The hooks run inside the runbook's shell: in the lab
# router's network namespace (the "host" of the runbooks), with the lab's
# variables (NS_CLIENT, SERVER_IP4, ...) in the environment.

# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

rb_fail() { echo "runbook hook: $*" >&2; exit 1; }

# rb_prog DEV: our program's id on DEV's ingress (here, the router).
rb_prog() {
	tc -j filter show dev "$1" ingress 2>/dev/null |
		jq -r '.[] | select(.options.prog.name == "tcaccel_ingress") | .options.prog.id'
}

# rb_redirects: packets of every interface that took the fast path
# (REDIRECT, and PEER / NEIGH where the version has those modes).
rb_redirects() {
	"$ROOT/scripts/tcaccel" status --format json |
		jq '[.[].counters | (.REDIRECT.packets // 0) + (.PEER.packets // 0) + (.NEIGH.packets // 0)] | add // 0'
}

# rb_fwd: packets the router's kernel forwarded (IPv4 + IPv6).
rb_fwd() {
	nstat -asz IpForwDatagrams Ip6OutForwDatagrams | awk '$1 ~ /ForwDatagrams$/ { s += $2 } END { print s + 0 }'
}

# rb_ping NS DST COUNT: COUNT quick pings; fails when none is answered.
# (ping's status says no more: it is 0 once any echo came.  The hooks
# check the exact counts the router saw after it, which a lost ping fails;
# a strict count here would also fail on an echo merely later than ping's
# 2-RTT linger after the last request, though the router still carried it.)
rb_ping() {
	timeout 60 nsenter --net="$(netns_path "$1")" -- ping -q -c "$3" -i 0.005 -W 2 "$2" >/dev/null ||
		rb_fail "ping $2 from $1 lost packets"
}

# rb_load_all: load on every interface of IFACES (mode RB_LOAD_MODE, if set).
rb_load_all() {
	local i
	for i in $IFACES; do
		"$ROOT/scripts/tcaccel" load "$i" ${RB_LOAD_MODE:+--mode "$RB_LOAD_MODE"} >/dev/null 2>&1
	done
}
