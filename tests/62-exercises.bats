#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The lab exercises (exercises/NN-*/): every solution passes its lesson's
# `make check`, every starting file fails it, for the reason the lesson is
# about, with a hint; the checks leave no namespace, cgroup or pin behind.
# tests/run: serial (trace_pipe)

load helpers

EX=$ROOT/exercises

# Every lesson's starter and solution, built once: the tests below look at
# these objects, and `make check OUT=` the same directory finds them up to
# date (a build error fails here, in every test).
setup_file() {
	local d
	for d in "$EX"/[0-9][0-9]-*/; do
		make -s -C "$d" OUT="$BATS_FILE_TMPDIR/b"
		make -s -C "$d" SOLUTION=1 OUT="$BATS_FILE_TMPDIR/b"
	done
}

# The FAIL line each starting file must produce: the lesson's point.
declare -gA STARTER_FAILS=(
	[01-kernel-vs-redirect]="your program forwarded none"
	[02-mac-ttl]="not to the server's MAC"
	[03-redirect-peer]="took veth-c1's transmit path"
	[04-redirect-neigh]="the node's kernel forwarded 1 echo request"
	[05-debugging]="most were counted NOT_IPV4"
	[06-sockmap]="no socket was ever put in the map"
)

# nothing_left: no lab namespace, cgroup or pin directory of a check remains.
nothing_left() {
	run ip netns list
	refute_output --regexp "^x[0-9a-f]{6}-"
	run find "$TCACCEL_BPFFS" -maxdepth 1 -name 'tcaccel-ex*'
	assert_output ""
	local cg
	cg=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
	run find "$cg" -maxdepth 1 -name 'tcaccel-ex6-*'
	assert_output ""
}

# lesson NAME: the starter fails as intended, the solution passes.
lesson() {
	local d=$EX/$1 out=$BATS_FILE_TMPDIR/b
	[[ -n "${STARTER_FAILS[$1]:-}" ]] || fail "no expected failure for $1"
	run make -s -C "$d" check OUT="$out"
	assert_failure
	assert_line --partial "FAIL: "
	assert_output --partial "${STARTER_FAILS[$1]}"
	assert_line --regexp "^hint: "
	refute_line --regexp "^PASS: "
	nothing_left
	run make -s -C "$d" check SOLUTION=1 OUT="$out"
	assert_success
	assert_line --regexp "^PASS: "
	refute_line --regexp "^FAIL: "
	nothing_left
}

@test "exercises: every lesson has README, Makefile, check, a starter with TODOs and a solution apart" {
	local d n=0 prog
	for d in "$EX"/[0-9][0-9]-*/; do
		n=$((n + 1))
		d=${d%/}
		[[ -n "${STARTER_FAILS[${d##*/}]:-}" ]] || fail "${d##*/} has no expected starter failure in this test"
		[[ -s "$d/README.md" && -s "$d/Makefile" && -x "$d/check" ]] || fail "${d##*/}: README.md, Makefile, check"
		grep -q '^\*\*Goal:\*\*' "$d/README.md" || fail "${d##*/}/README.md states no goal"
		grep -q '^```$' "$d/README.md" || fail "${d##*/}/README.md has no picture"
		prog=$(sed -n 's/^PROG := //p' "$d/Makefile")
		[[ -f "$d/$prog.bpf.c" && -f "$d/solution/$prog.bpf.c" ]] || fail "${d##*/}: $prog.bpf.c and solution/"
		grep -q 'TODO' "$d/$prog.bpf.c" || fail "${d##*/}: the starter has no TODO"
		run grep -n 'TODO' "$d/solution/$prog.bpf.c"
		assert_output ""
		run "$d/check" --help
		assert_success
		assert_output --partial "Usage: ./check OBJECT.bpf.o"
		grep -qF "(${d##*/}/)" "$EX/README.md" || fail "${d##*/} missing from exercises/README.md"
	done
	assert_equal "$n" 6
	# Every map of every exercise program is named tcaccel_*.
	local o maps
	for o in "$BATS_FILE_TMPDIR"/b/*.bpf.o "$BATS_FILE_TMPDIR"/b/solution/*.bpf.o; do
		maps=$(llvm-objdump -t "$o" | awk '$4 == ".maps" { print $NF }')
		[[ -n "$maps" ]] || fail "$o has no maps"
		run grep -v '^tcaccel_' <<<"$maps"
		assert_failure
	done
}

# A frame the lessons must leave alone is left with TC_ACT_UNSPEC (-1), not
# TC_ACT_OK (0): in direct-action mode cls_bpf goes on to the next filter
# only on UNSPEC, and a lesson's program must not switch off the filters
# behind it (exercises/common/lesson.h).  An ARP frame, and IPv4 the FIB
# cannot route (bpftool prog run: no ingress device), through every tc
# program, starters and solutions alike.
@test "exercises: what a tc lesson does not forward it passes with TC_ACT_UNSPEC, so the filters behind still run" {
	local o f got n=0 pin=$TCACCEL_BPFFS/tcaccel-ex-unspec out=$BATS_FILE_TMPDIR/b
	local arp=$BATS_TEST_TMPDIR/arp.bin ip4=$BATS_TEST_TMPDIR/ip4.bin
	printf '\xff\xff\xff\xff\xff\xff\x02\xca\x00\x01\x00\x02\x08\x06' >"$arp"
	head -c 46 /dev/zero >>"$arp"
	# IPv4 198.18.1.2 -> 198.18.2.2, TTL 64, UDP: parsed, then the FIB says no.
	printf '\x02\xca\x00\x01\x00\x01\x02\xca\x00\x01\x00\x02\x08\x00' >"$ip4"
	printf '\x45\x00\x00\x1c\x00\x00\x40\x00\x40\x11\x00\x00\xc6\x12\x01\x02\xc6\x12\x02\x02' >>"$ip4"
	head -c 26 /dev/zero >>"$ip4"
	for o in "$out"/*.bpf.o "$out"/solution/*.bpf.o; do
		llvm-objdump -h "$o" | grep -qE '^ *[0-9]+ tc ' || continue
		n=$((n + 1))
		run bpftool prog load "$o" "$pin"
		assert_success
		got=""
		for f in "$arp" "$ip4"; do
			got+=" $(bpftool -j prog run pinned "$pin" data_in "$f" repeat 1 | jq -r .retval)"
		done
		rm -f "$pin"
		# Both frames: -1 as bpftool prints a __u32.
		assert_equal "${o#"$out"/}:$got" "${o#"$out"/}: 4294967295 4294967295"
	done
	assert_equal "$n" 10
	nothing_left
}

@test "lesson 1 (kernel vs redirect): starter fails, solution passes" {
	lesson 01-kernel-vs-redirect
}

@test "lesson 2 (MAC rewrite and TTL): starter fails, solution passes" {
	lesson 02-mac-ttl
}

@test "lesson 3 (bpf_redirect_peer): starter fails, solution passes" {
	lesson 03-redirect-peer
}

@test "lesson 4 (bpf_redirect_neigh): starter fails, solution passes" {
	lesson 04-redirect-neigh
}

@test "lesson 5 (trace_pipe and counters): starter fails, solution passes" {
	lesson 05-debugging
}

@test "lesson 6 (sockmap): starter fails, solution passes" {
	lesson 06-sockmap
}
