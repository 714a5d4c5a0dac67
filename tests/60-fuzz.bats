#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer (tests/lib/fuzz.py; `make fuzz` runs 100000 frames) in the
# suite: the saved reproducers of tests/corpus/ replay clean, a short run of
# fresh mutated frames (new seed each time, printed) finds nothing, and the
# harness does catch a broken program.  Same lab as tests/fuzz: the router
# lab with tcaccel on both router interfaces (to-client MODE=auto,
# to-server MODE=redirect, to-server with rp_filter strict), the routes of
# lab_special_routes.

load helpers
load lib/reliability

setup_file() {
	lab_up router
	lab_hostile
	fuzz_lab_load
}

teardown_file() {
	lab_down
}

teardown() {
	# the real object back, if a test loaded another one
	if [[ -e "$BATS_TEST_TMPDIR/broken" ]]; then
		"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode auto 2>/dev/null
	fi
}

# fuzz CMD [ARGS...] [--reasons FILE]: tests/lib/fuzz.py against the lab.
fuzz() {
	local cmd=$1
	shift
	run "$FUZZ" "$cmd" --netns "$NS_ROUTER" --prog "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" \
		--pins "$(pin_dir "$NS_ROUTER")" --reasons "$ROOT/build/tcaccel.reasons" \
		--workdir "$BATS_TEST_TMPDIR" "$@"
	echo "$output" | grep -v '^    [0-9a-f]*$' | head -n 60
}

@test "tests/fuzz --help says how to run it" {
	run "$ROOT/tests/fuzz" --help
	assert_success
	assert_output --partial "Usage: tests/fuzz [-n N] [--seed S]"
	assert_output --partial "make fuzz [N=100000] [SEED=s]"
}

@test "fuzz corpus: every saved reproducer replays clean" {
	local n
	n=$(find "$ROOT/tests/corpus" -name '*.hex' | wc -l)
	((n > 0))
	fuzz replay "$ROOT/tests/corpus"
	assert_success
	assert_output --partial "fuzz replay: $n reproducers, $n run, 0 violations"
}

@test "fuzz: 5000 mutated IPv4/IPv6 frames, every verdict, byte and counter as the model says" {
	# violations are saved in the test's own directory, not the checkout:
	# the output names each one, to copy into tests/corpus/ once understood
	fuzz run -n "${TCACCEL_FUZZ_N:-5000}" --corpus "$BATS_TEST_TMPDIR/corpus"
	assert_success
	assert_output --regexp "fuzz: [0-9]+ frames generated, [0-9]+ run in the kernel"
	assert_output --regexp "outcomes .*REDIRECT [0-9]+"
	assert_output --regexp "outcomes .*PEER [0-9]+"
	assert_output --regexp "outcomes .*NEIGH [0-9]+"
	assert_output --partial "fuzz: 0 violations"
}

@test "fuzz harness: a program that forgets the TTL decrement is caught and saved as a reproducer" {
	local src=$BATS_TEST_TMPDIR/bpf out=$BATS_TEST_TMPDIR/build corpus=$BATS_TEST_TMPDIR/corpus
	cp -r "$ROOT/bpf" "$src"
	sed -i '/ipv4_decrease_ttl(iph);/d' "$src/include/ipv4.h"
	run cmp -s "$ROOT/bpf/include/ipv4.h" "$src/include/ipv4.h"
	assert_failure
	make -s -C "$ROOT" OUTPUT="$out" BPF_SRC="$src/tcaccel.bpf.c" "$out/tcaccel.bpf.o" >/dev/null
	# on to-client: the fuzzer runs to-client's program (ctx_in says where a
	# frame arrives)
	touch "$BATS_TEST_TMPDIR/broken"
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode auto --obj "$out/tcaccel.bpf.o" 2>/dev/null

	fuzz run -n 1000 --seed 7 --corpus "$corpus"
	assert_failure
	assert_output --partial "redirect wrong: TTL 64 -> 64, want -1"
	assert_output --regexp "fuzz: [1-9][0-9]* violations"
	local saved
	saved=$(find "$corpus" -name '*.hex' | wc -l)
	((saved > 0))
	# the reproducers fail against the broken program, pass against ours
	fuzz replay "$corpus"
	assert_failure
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode auto 2>/dev/null
	rm "$BATS_TEST_TMPDIR/broken"
	fuzz replay "$corpus"
	assert_success
	assert_output --partial "$saved reproducers, $saved run, 0 violations"
}
