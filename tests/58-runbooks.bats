#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Every command of every runbook (docs/runbooks/*.md) runs here, as the
# runbook says, in a router lab standing in for the reader's host: the
# blocks are extracted by tests/lib/runbook.py (conventions in
# docs/runbooks/README.md) and run in one shell inside the lab router's
# netns, with /usr/local, /etc and /var overlaid (so `make install` and
# /etc/tcaccel stay in the test).  Each section's condition (traffic, a
# missing neighbour, a small MTU, a firewall rule) comes from the hooks in
# tests/runbooks/NAME.bash, which also check what the section claims.
# tests/run: serial (trace_pipe, make install into /usr/local)

load helpers

RUNBOOK=$ROOT/tests/lib/runbook.py

setup() {
	lab_up router
}

teardown() {
	lab_down
	# The runbooks run tcaccel in the lab router as their "host": its pins
	# are the suite's host pins, which lab_down does not know about.
	rm -rf -- "$(pin_root "")"
}

# runbook_run NAME: run docs/runbooks/NAME.md in the lab; its output (block
# markers "### NAME.md:LINE (heading)" and every command's output) on stdout.
runbook_run() {
	local name=$1 script=$BATS_TEST_TMPDIR/$1.sh ovl=$BATS_TEST_TMPDIR/ovl
	/usr/bin/python3 "$RUNBOOK" script "$ROOT/docs/runbooks/$name.md" \
		--hooks "$ROOT/tests/runbooks/$name.bash" \
		--var SRC="$ROOT" --var IFACES="$RT_IF_CLIENT $RT_IF_SERVER" --var IFACE="$RT_IF_CLIENT" \
		--var WATCH=0 --var DEST="$SERVER_IP4" --var TRACE_SECONDS=5 >"$script" || return 1
	mkdir -p "$ovl"
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private -- bash -c '
		set -Eeuo pipefail
		ovl=$1 script=$2 ns=$3
		mount -t tmpfs runbook-overlay "$ovl"
		for d in /usr/local /etc /var; do
			n=${d//\//_}
			mkdir -p "$ovl/$n/up" "$ovl/$n/work"
			mount -t overlay overlay -o "lowerdir=$d,upperdir=$ovl/$n/up,workdir=$ovl/$n/work" "$d"
		done
		# its own bpffs: the runbooks read `tcaccel status` for the whole
		# host, and other test files pin their labs in the suite'"'"'s bpffs
		mount -t bpf bpf /sys/fs/bpf
		make -s -C "$ROOT" install >/dev/null
		cd /
		exec nsenter --net="/run/netns/$ns" -- \
			env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash "$script" 2>&1
	' runbook "$ovl" "$script" "$NS_ROUTER"
}

@test "runbook conventions: every block is sh/vars/fails/norun or an example; norun only for systemctl/git" {
	local f kinds
	for f in "$ROOT"/docs/runbooks/*.md; do
		run /usr/bin/python3 "$RUNBOOK" blocks "$f"
		assert_success
		[[ "${f##*/}" == README.md ]] && continue
		# Every runbook but the index has commands, and its own hooks.
		kinds=$(awk '{ print $2 }' <<<"$output" | sort -u | paste -sd' ')
		[[ "$kinds" == *run* ]] || fail "${f##*/} has no sh block"
		[[ -f "$ROOT/tests/runbooks/$(basename "$f" .md).bash" ]] || fail "no hooks for ${f##*/}"
	done
	# The checker refuses what the conventions forbid.
	local fence
	fence=$(printf '\x60\x60\x60')
	printf '# x\n%ssh norun because\nmake install\n%s\n' "$fence" "$fence" >"$BATS_TEST_TMPDIR/bad.md"
	run /usr/bin/python3 "$RUNBOOK" script "$BATS_TEST_TMPDIR/bad.md"
	assert_failure
	assert_output --partial "norun blocks may only hold systemctl"
	printf '# x\n%ssh vars\nIFACE=eth0\n%s\n' "$fence" "$fence" >"$BATS_TEST_TMPDIR/bad.md"
	run /usr/bin/python3 "$RUNBOOK" script "$BATS_TEST_TMPDIR/bad.md"
	assert_failure
	assert_output --partial "setting IFACE has no lab value"
	printf '# x\n%ssh\ntrue\n%s\n' "$fence" "$fence" >"$BATS_TEST_TMPDIR/ok.md"
	printf 'hook_before_renamed() { :; }\n' >"$BATS_TEST_TMPDIR/hooks.bash"
	/usr/bin/python3 "$RUNBOOK" script "$BATS_TEST_TMPDIR/ok.md" --hooks "$BATS_TEST_TMPDIR/hooks.bash" \
		>"$BATS_TEST_TMPDIR/ok.sh"
	run bash "$BATS_TEST_TMPDIR/ok.sh"
	assert_failure
	assert_output --partial "has no heading for hook_before_renamed"
	# Every runbook is in the index.
	for f in "$ROOT"/docs/runbooks/*.md; do
		[[ "${f##*/}" == README.md ]] || grep -qF "(${f##*/})" "$ROOT/docs/runbooks/README.md" ||
			fail "${f##*/} missing from docs/runbooks/README.md"
	done
}

@test "runbook enable.md: install, doctor, load, the unit's command; 20 pings take the fast path" {
	run runbook_run enable
	assert_success
	assert_line --regexp "^### runbook done  \[[0-9]+s\]$"
	assert_output --partial "all good"
	assert_line --regexp "^\(host\)  $RT_IF_CLIENT  ifindex [0-9]+  prog [0-9]+  mode [a-z]+$"
	assert_line --regexp "^\(host\)  $RT_IF_SERVER  ifindex [0-9]+  prog [0-9]+  mode [a-z]+$"
	assert_output --partial "### hook after_load_it_now "
	assert_output --partial "### hook after_keep_it_across_reboots "
}

@test "runbook verify.md: kernel forwarded 0, tcaccel redirected 400; the cron line feeds node_exporter" {
	run runbook_run verify
	assert_success
	assert_line --regexp "^### runbook done  \[[0-9]+s\]$"
	assert_line "kernel forwarded: 0  tcaccel redirected: 400"
	assert_line --regexp "^tcaccel_packets_total\{netns=\"\",interface=\"$RT_IF_SERVER\",reason=\"REDIRECT\"\} 200$"
	assert_output --partial "### hook after_4_metrics_for_prometheus "
}

@test "runbook rollback.md: one command, the kernel forwards again, uninstall" {
	run runbook_run rollback
	assert_success
	assert_line --regexp "^### runbook done  \[[0-9]+s\]$"
	assert_line "tcaccel is not loaded"
	assert_line --regexp "^IpForwDatagrams +[1-9][0-9]* "
	assert_output --partial "### hook after_remove_it_from_the_host "
}

@test "runbook troubleshoot.md: reasons, trace, missing neighbour, MTU, firewall refusal" {
	run runbook_run troubleshoot
	assert_success
	assert_line --regexp "^### runbook done  \[[0-9]+s\]$"
	# read the reasons: forwarded pings and pings to the router itself
	assert_line --regexp "^    REDIRECT +20 pkts  [0-9]+ bytes$"
	assert_line --regexp "^    FIB_NOT_FWDED +5 pkts  [0-9]+ bytes$"
	assert_line "REDIRECT	20"
	# trace
	assert_line --regexp "tcaccel: if=[0-9]+ len=98 REDIRECT egress=[0-9]+$"
	# neighbour: resolved again by the kernel, and counted
	assert_line --regexp "^$SERVER_IP4 lladdr $SERVER_MAC (REACHABLE|STALE|DELAY)"
	assert_line --regexp "^    FIB_NO_NEIGH +1 pkts"
	# MTU
	assert_line "in: $RT_IF_CLIENT mtu 1500   out: $RT_IF_SERVER mtu 1280"
	assert_line --regexp "^    FIB_FRAG_NEEDED +1 pkts"
	# firewall: respected by default, refused on request, then bypassed
	assert_output --partial "firewall mode respect"
	assert_output --partial "refusing to load (--firewall refuse)"
	assert_output --partial "BYPASS the rules above (--firewall bypass)"
}

@test "runbook upgrade.md: swap with no echo request lost, new program ids; then a new map layout" {
	run runbook_run upgrade
	assert_success
	assert_line --regexp "^### runbook done  \[[0-9]+s\]$"
	assert_output --partial "come from an incompatible (older) build and are still used by"
	assert_line --regexp "^### upgrade: [0-9]+ echo requests through build, install and swap, none lost$"
	assert_line --regexp "^### upgrade: unload/load: [0-9]+ echo requests, [0-9]+ lost$"
	# The program ids before and after the swap differ on every interface.
	local before after
	before=$(grep -E "^$RT_IF_CLIENT prog [0-9]+$" <<<"$output" | sed -n 1p)
	after=$(grep -E "^$RT_IF_CLIENT prog [0-9]+$" <<<"$output" | sed -n 2p)
	[[ -n "$before" && -n "$after" && "$before" != "$after" ]]
}
