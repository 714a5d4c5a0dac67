#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# `make bench QUICK=1` from this checkout: it runs, and what it writes is
# well formed - the JSON (every sample, median and ratio a number, every
# target decided), the markdown table, the PNG.  No timing is asserted:
# benchmarks are not tests.  What is asserted is the path each row claims,
# from the bench's own path checks: the kernel rows were forwarded by the
# kernel, the fast-path rows by tcaccel (its counters, not the kernel's),
# the empty row by the kernel behind the empty program (its run count).
# tests/run: serial (kernel.bpf_stats_enabled, every CPU)

load helpers

setup_file() {
	export OUT=$BATS_FILE_TMPDIR/results
	make -s -C "$ROOT" bench QUICK=1 BENCH_OUT="$OUT" >"$BATS_FILE_TMPDIR/stdout" 2>"$BATS_FILE_TMPDIR/stderr" ||
		echo "$?" >"$BATS_FILE_TMPDIR/failed"
	JSON=$(find "$OUT" -name '*.json' 2>/dev/null | head -n1)
	export JSON
}

@test "make bench QUICK=1 succeeds and writes one JSON, markdown and PNG" {
	if [[ -e "$BATS_FILE_TMPDIR/failed" ]]; then
		cat "$BATS_FILE_TMPDIR/stderr"
		fail "make bench QUICK=1 exited $(cat "$BATS_FILE_TMPDIR/failed")"
	fi
	[[ -n "$JSON" ]] || fail "no JSON in $OUT"
	local base=${JSON%.json}
	assert_equal "$(find "$OUT" -type f | wc -l)" 3
	# the PNG is a PNG (magic bytes), not empty
	assert_equal "$(head -c 8 "$base.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a
	(($(stat -c %s "$base.png") > 10000))
	run grep -c '^| ' "$base.md"
	((output > 10))
	run cat "$BATS_FILE_TMPDIR/stdout"
	assert_output --partial "== targets"
	assert_output --partial "vs wire"
}

@test "bench JSON: machine and tools recorded, every number a number, every target decided" {
	[[ -n "$JSON" ]] || skip "no bench result (see the previous test)"
	run jq -e '
		.schema == 1 and .quick == true and (.reps | type == "number")
		and ([.machine.kernel, .machine.cpu, .tools.trafgen, .tools.iperf3, .tools.sockperf,
		      .tools.bpftool] | all(type == "string" and length > 0))
		and (.rows | length > 10)
		and (.rows | all(
			(.samples | length > 0 and all(type == "number"))
			and ([.median, .min, .max] | all(type == "number"))
			and (.ratios | to_entries | all(.value | type == "number"))))
		and (.targets | length >= 8 and all((.met | type == "boolean") and (.value | type == "number")))' "$JSON"
	assert_success
}

@test "bench JSON: the headline rows exist, with both ratios" {
	[[ -n "$JSON" ]] || skip "no bench result (see the previous test)"
	local p m
	for p in wire kernel empty fw-kernel redirect peer neigh auto fw-respect fw-bypass; do
		run jq -e --arg p "$p" 'any(.rows[]; .group == "forwarding" and .path == $p and .metric == "pps"
			and (.ratios.wire | type == "number") and (.ratios.kernel | type == "number"))' "$JSON"
		assert_success
	done
	for m in udp_p50 tcp_p50 tcp1 cost; do
		run jq -e --arg m "$m" 'any(.rows[]; .path == "auto" and .metric == $m)' "$JSON"
		assert_success
	done
	run jq -e 'any(.rows[]; .group == "scale" and .path == "c20" and (.ratios.base | type == "number"))' "$JSON"
	assert_success
	for m in pps tcp1 tcp_p50; do
		run jq -e --arg m "$m" 'any(.rows[]; .group == "nat" and .path == "nat-fast" and .metric == $m
			and (.ratios.kernel | type == "number"))' "$JSON"
		assert_success
	done
	run jq -e 'any(.targets[]; .id == "nat_pps" and (.value | type == "number"))' "$JSON"
	assert_success
}

@test "bench JSON: program cost of every mode and of the empty program, each cost row with its ratio to the empty one" {
	[[ -n "$JSON" ]] || skip "no bench result (see the previous test)"
	local p
	for p in empty redirect peer neigh auto; do
		run jq -e --arg p "$p" 'any(.rows[]; .group == "forwarding" and .path == $p and .metric == "cost"
			and (.median | type == "number"))' "$JSON"
		assert_success
	done
	run jq -e '[.rows[] | select(.metric == "cost")] | length >= 5
		and all(.ratios.empty | type == "number")' "$JSON"
	assert_success
	# issue 14's targets, the old absolute cost one gone
	run jq -e '[.targets[].id] as $ids
		| all("pps_vs_kernel", "pps_vs_wire", "tcp1_vs_kernel", "tcp4_vs_kernel", "cost_vs_empty",
			"pps_firewall", "pps_firewall_bypass", "scale_containers", "scale_routes", "nat_pps"; IN($ids[]))
		and (any($ids[]; . == "cost") | not)' "$JSON"
	assert_success
	run jq -e '[.targets[] | select(.id | IN("tcp1_vs_kernel", "tcp4_vs_kernel", "cost_vs_empty")) | .detail]
		| length == 3 and all(test("redirect") and test("peer") and test("neigh") and test("auto"))' "$JSON"
	assert_success
}

@test "bench JSON: the parts of a forwarder under prog run, each with its ratio to the empty one, and the verdicts they must give" {
	[[ -n "$JSON" ]] || skip "no bench result (see the previous test)"
	local p
	# a part whose verdict was wrong (e.g. tcaccel not forwarding the frame) has no row
	for p in empty parse fib redirect fib2 tcaccel; do
		run jq -e --arg p "$p" 'any(.rows[]; .group == "parts" and .path == $p and .metric == "run"
			and (.median | type == "number" and . > 0) and (.ratios.empty | type == "number"))' "$JSON"
		assert_success
	done
	# cumulative: a lookup costs more than parsing, two more than one
	run jq -e '[.rows[] | select(.group == "parts") | {key: .path, value: .median}] | from_entries
		| .fib > .parse and .fib2 > .fib' "$JSON"
	assert_success
	run jq -e 'any(.targets[]; .id == "cost_vs_empty" and (.detail | test("bpf_fib_lookup\\(\\) alone [0-9.]+x")))' "$JSON"
	assert_success
}

@test "bench JSON: each row took the path it names (kernel counters vs tcaccel counters)" {
	[[ -n "$JSON" ]] || skip "no bench result (see the previous test)"
	# share of the received packets the forwarding netns's kernel forwarded
	run jq -r '[.rows[] | select(.metric == "pps") | "\(.path)=\(.kernel_forwarded_share)"] | join(" ")' "$JSON"
	echo "$output"
	run jq -e '[.rows[] | select(.metric == "pps" and .group == "forwarding"
		and (.path | IN("kernel", "empty", "fw-kernel")))
		| .kernel_forwarded_share > 0.9] | length == 3 and all' "$JSON"
	assert_success
	# the empty row ran the empty program (by name) on the router's ingress
	run jq -e '.path_checks.empty_program_runs["to-client"] | .name == "tcaccel_empty" and .run_cnt > 1000' "$JSON"
	assert_success
	run jq -e '[.rows[] | select(.metric == "pps" and .group == "forwarding"
		and (.path | IN("redirect", "peer", "neigh", "auto", "fw-respect", "fw-bypass")))
		| .kernel_forwarded_share < 0.05] | length == 6 and all' "$JSON"
	assert_success
	# and tcaccel counted them, under the reason the mode stands for
	run jq -e '.path_checks.fast_path_packets_by_reason as $c
		| ($c.redirect.REDIRECT > 10000) and ($c.peer.PEER > 10000) and ($c.neigh.NEIGH > 10000)
		and ($c.auto.PEER > 10000) and ($c.c20.PEER > 1000)' "$JSON"
	assert_success
	# NAT: the kernel's NAT forwarded nat-kernel, tcaccel's (NAT_REDIRECT) nat-fast
	run jq -e '([.rows[] | select(.metric == "pps" and .group == "nat")
		| {(.path): .kernel_forwarded_share}] | add) as $s
		| $s["nat-kernel"] > 0.9 and $s["nat-fast"] < 0.05
		and .path_checks.fast_path_packets_by_reason["nat-fast"].NAT_REDIRECT > 10000' "$JSON"
	assert_success
}
