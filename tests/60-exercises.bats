#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The lab exercises (exercises/NN-*/): every solution passes its lesson's
# `make check`, every starting file fails it, for the reason the lesson is
# about, with a hint; the checks leave no namespace, cgroup or pin behind.

load helpers

EX=$ROOT/exercises

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
	local d=$EX/$1 out=$BATS_TEST_TMPDIR/build
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
	for d in "$EX"/[0-9][0-9]-*/; do
		run make -s -C "$d" SOLUTION=1 OUT="$BATS_TEST_TMPDIR/b"
		assert_success
	done
	for o in "$BATS_TEST_TMPDIR"/b/solution/*.bpf.o; do
		maps=$(llvm-objdump -t "$o" | awk '$4 == ".maps" { print $NF }')
		[[ -n "$maps" ]] || fail "$o has no maps"
		run grep -v '^tcaccel_' <<<"$maps"
		assert_failure
	done
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
