# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Hooks for docs/runbooks/upgrade.md (see tests/lib/runbook.py): pings flow
# from the client through the router during the upgrade; through the build,
# install and swap every echo request the client sent reached the server
# and every reply came back (kernel ICMP counters on both ends).
# shellcheck source=tests/runbooks/lib.bash
source "$ROOT/tests/runbooks/lib.bash"

icmp() { # NS COUNTER
	nsenter --net="$(netns_path "$1")" -- nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2 + 0 }'
}

# Deltas since hook_setup, recomputed on every call (for wait_until).
req_sent() { echo $(($(icmp "$NS_CLIENT" IcmpOutEchos) - RB_C_OUT)); }
req_got() { echo $(($(icmp "$NS_SERVER" IcmpInEchos) - RB_S_IN)); }
rep_sent() { echo $(($(icmp "$NS_SERVER" IcmpOutEchoReps) - RB_S_OUT)); }
rep_got() { echo $(($(icmp "$NS_CLIENT" IcmpInEchoReps) - RB_C_IN)); }
pinging() { (($(req_sent) > 20)); }
requests_match() { [[ "$(req_sent)" == "$(req_got)" ]]; }
replies_match() { [[ "$(rep_sent)" == "$(rep_got)" ]]; }
redirects_above() { (($(rb_redirects) > $1)); }

# ping_start: a background ping client -> server, 200/s, bounded (120 s);
# counters noted first.
ping_start() {
	RB_C_OUT=$(icmp "$NS_CLIENT" IcmpOutEchos)
	RB_S_IN=$(icmp "$NS_SERVER" IcmpInEchos)
	RB_S_OUT=$(icmp "$NS_SERVER" IcmpOutEchoReps)
	RB_C_IN=$(icmp "$NS_CLIENT" IcmpInEchoReps)
	nsenter --net="$(netns_path "$NS_CLIENT")" -- ping -q -i 0.005 -w 120 "$SERVER_IP4" >/dev/null 2>&1 &
	RB_PING=$!
	wait_until 30 pinging || rb_fail "the background ping did not start"
}

# ping_stop: stop it once the fast path is seen carrying traffic.
ping_stop() {
	local r
	r=$(rb_redirects)
	wait_until 30 redirects_above "$((r + 20))" || rb_fail "no REDIRECT: not on the fast path"
	kill -INT "$RB_PING"
	wait "$RB_PING" || true
}

hook_setup() {
	rb_load_all
	ping_start
}

# Through build, install and the swap: zero loss.  The counters on both ends
# agree (polled: the last reply may still be on its way).
hook_after_3_swap_the_program_in_place() {
	ping_stop
	wait_until 30 requests_match || rb_fail "echo requests lost: client sent $(req_sent), server got $(req_got)"
	wait_until 30 replies_match || rb_fail "echo replies lost: server sent $(rep_sent), client got $(rep_got)"
	echo "### upgrade: $(req_sent) echo requests through build, install and swap, none lost"
}

# The new version has another map layout.
hook_before_4_if_load_says_the_pinned_maps_are_incompatible() {
	make -s -C "$SRC" OUTPUT="$BATS_TEST_TMPDIR/new" BPF_EXTRA=-DTCACCEL_MAX_IFACES=512 >/dev/null
	install -m 644 "$BATS_TEST_TMPDIR/new/tcaccel.bpf.o" /usr/local/lib/tcaccel/tcaccel.bpf.o
	ping_start
}

# New maps in use, the fast path carries the traffic again.  (Removing and
# adding the clsact qdisc may drop the odd packet being sent out of that
# interface at that instant, as the runbook says: counted, not asserted.)
hook_after_4_if_load_says_the_pinned_maps_are_incompatible() {
	[[ "$(bpftool -j map show pinned /sys/fs/bpf/tcaccel/host/tc/globals/tcaccel_stats | jq .max_entries)" == 512 ]] ||
		rb_fail "the new maps are not in use"
	local i
	for i in $IFACES; do [[ -n "$(rb_prog "$i")" ]] || rb_fail "not loaded on $i"; done
	ping_stop
	wait_until 5 requests_match || true
	echo "### upgrade: unload/load: $(req_sent) echo requests, $(($(req_sent) - $(req_got))) lost"
}
