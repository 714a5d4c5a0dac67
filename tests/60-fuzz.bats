#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer (tests/lib/fuzz.py; `make fuzz` runs 100000 frames) in the
# suite: the saved reproducers of tests/corpus/ replay clean, a short run of
# fresh mutated frames (new seed each time, printed) finds nothing, and the
# harness does catch a broken program.  And an oracle independent of the
# fuzzer's model (tests/lib/wirediff.py): the same frames on the wire, with
# and without tcaccel, give the same frames at both ends.  Same lab as tests/fuzz: the router
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
	if [[ -e "$BATS_TEST_TMPDIR/limits" ]]; then
		wire_limits_restore
	fi
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
	assert_output --partial "fuzz: 0 violations"
	# and NEIGH, with to-server in that mode
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode neigh 2>/dev/null
	fuzz run -n 2000 --corpus "$BATS_TEST_TMPDIR/corpus"
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	assert_success
	assert_output --regexp "outcomes .*NEIGH [0-9]+"
	assert_output --partial "fuzz: 0 violations"
}

@test "fuzz harness: a program that forgets the TTL decrement is caught and saved as a reproducer" {
	local src=$BATS_TEST_TMPDIR/bpf out=$BATS_TEST_TMPDIR/build corpus=$BATS_TEST_TMPDIR/corpus
	cp -r "$ROOT/bpf" "$src"
	sed -i '/ipv4_decrease_ttl(iph);/d' "$src/include/ipv4.h"
	run cmp -s "$ROOT/bpf/include/ipv4.h" "$src/include/ipv4.h"
	assert_failure
	make -s -C "$ROOT" OUTPUT="$out" BPF_DIR="$src" "$out/tcaccel.bpf.o" >/dev/null
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

# quiet: the lab has settled - no neighbour of the router left to resolve
# (a packet waiting on one is dropped, with an ICMP error, once resolution
# fails: 3 s), and no interface's counters moved for a second.
lab_counters() {
	local ns
	for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_SERVER"; do
		in_ns "$ns" ip -s -j link show | jq -c 'map([.ifname, .stats64.rx.packets, .stats64.tx.packets])'
	done
}
quiet() {
	local a b
	[[ -z "$(in_ns "$NS_ROUTER" ip neigh show nud incomplete nud delay nud probe)" ]] || return 1
	[[ -z "$(in_ns "$NS_ROUTER" ip -6 neigh show nud incomplete nud delay nud probe)" ]] || return 1
	a=$(lab_counters)
	sleep 1
	b=$(lab_counters)
	[[ "$a" == "$b" ]]
}

# wire_limits_off: every ICMP error the router and the hosts would send,
# sent, whenever it is due.  No per-destination or global rate limit; no
# rate mask either: with one, each error of a masked type (unreachable,
# time exceeded...) also zeroes the destination's inet_peer tokens, the
# very ones ip_error() draws on (inetpeer.c: "the rate limiting
# information for one ip object is shared").  And no redirects from the
# router, whose send path resets and re-times those tokens too
# (ip_rt_send_redirect).  ip_error()'s own bucket stays (see wire_run).
# The values before are restored by teardown.
wire_limits_off() {
	local ns
	local -a set
	: >"$BATS_TEST_TMPDIR/limits"
	for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_SERVER"; do
		set=(net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0 net.ipv4.icmp_msgs_per_sec=1000000
			net.ipv4.icmp_msgs_burst=1000000 net.ipv6.icmp.ratelimit=0)
		[[ "$ns" == "$NS_ROUTER" ]] && set+=(net.ipv4.conf.{all,default,"$RT_IF_CLIENT","$RT_IF_SERVER"}.send_redirects=0)
		# "key = value" lines, saved as "NS key=value"
		in_ns "$ns" sysctl "${set[@]%%=*}" | sed "s/ = /=/; s/^/$ns /" >>"$BATS_TEST_TMPDIR/limits"
		in_ns "$ns" sysctl -qw "${set[@]}"
	done
}
wire_limits_restore() {
	local ns
	local -a kv
	for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_SERVER"; do
		mapfile -t kv < <(awk -v ns="$ns" '$1 == ns { print $2 }' "$BATS_TEST_TMPDIR/limits")
		((${#kv[@]} == 0)) || in_ns "$ns" sysctl -qw "${kv[@]}"
	done
	rm "$BATS_TEST_TMPDIR/limits"
}

# wire_run DIR: every frame of $BATS_FILE_TMPDIR/wire/send.{client,server}
# sent from its side through the router, what each side receives captured
# in DIR/{client,server}, until the lab is quiet.  A run starts once the
# router's ip_error() buckets (wirediff.py error_burst) have refilled since
# the last run: a second per error of the burst, and one to spare.  The
# kernel shows no bucket's level, so this is a wait, not a poll.
WIRE_LAST=
wire_run() {
	local dir=$1 side ns refill
	local -a pids=()
	if [[ -n "$WIRE_LAST" ]]; then
		refill=$(($("$WIREDIFF" burst) + 1))
		if ((SECONDS - WIRE_LAST <= refill)); then
			sleep $((refill + 1 - (SECONDS - WIRE_LAST)))
		fi
	fi
	mkdir -p "$dir"
	in_ns "$NS_ROUTER" ip neigh flush all
	in_ns "$NS_ROUTER" ip -6 neigh flush all
	for side in client server; do
		ns=$NS_CLIENT
		[[ "$side" == server ]] && ns=$NS_SERVER
		nsenter --net="$(netns_path "$ns")" -- "$WIREDIFF" capture eth0 "$dir/$side" &
		pids+=($!)
		wait_until 30 test -e "$dir/$side.ready"
	done
	in_ns "$NS_CLIENT" "$WIREDIFF" send eth0 "$BATS_FILE_TMPDIR/wire/send.client"
	in_ns "$NS_SERVER" "$WIREDIFF" send eth0 "$BATS_FILE_TMPDIR/wire/send.server"
	wait_until 30 quiet
	WIRE_LAST=$SECONDS
	kill -TERM "${pids[@]}"
	wait "${pids[@]}"
}

@test "wire oracle: the same 2000 mutated frames through the router with and without tcaccel, the same frames arrive" {
	WIREDIFF=$ROOT/tests/lib/wirediff.py
	wire_limits_off
	run "$WIREDIFF" gen "$BATS_FILE_TMPDIR/wire" -n 2000
	assert_success
	echo "$output"
	"$TCACCEL" unload --all --netns "$NS_ROUTER" 2>/dev/null
	wire_run "$BATS_TEST_TMPDIR/kernel"
	# redirect one way, auto (PEER) the other
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode auto 2>/dev/null
	local r0
	r0=$("$TCACCEL" status --netns "$NS_ROUTER" -F json | jq '[.[].counters | .REDIRECT, .PEER, .NEIGH | .packets] | add')
	wire_run "$BATS_TEST_TMPDIR/tcaccel"
	# tcaccel did forward some of them (or the comparison proves nothing)
	(($("$TCACCEL" status --netns "$NS_ROUTER" -F json | jq '[.[].counters | .REDIRECT, .PEER, .NEIGH | .packets] | add') - r0 > 100))
	run "$WIREDIFF" compare "$BATS_TEST_TMPDIR/kernel" "$BATS_TEST_TMPDIR/tcaccel"
	echo "$output"
	fuzz_lab_load
	assert_success
}
