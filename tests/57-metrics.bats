#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# `tcaccel status --format prom` (and `make status FORMAT=prom`): the
# Prometheus text format, checked by a strict parser (tests/lib/promcheck.py,
# promtool's rules) and against the JSON status it is made from.

load helpers

PROMCHECK=$ROOT/tests/lib/promcheck.py

setup_file() {
	lab_up router
	# Mode redirect: every forwarded packet counts as REDIRECT.
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" --mode redirect 2>/dev/null
	flood "$NS_CLIENT" "$SERVER_IP4" 25
	flood "$NS_CLIENT" "$SERVER_IP6" 5
}

teardown_file() {
	lab_down
}

# prom_value SAMPLES_JSON NAME IFACE REASON
prom_value() {
	jq -r --arg n "$2" --arg i "$3" --arg r "$4" \
		'.[] | select(.name == $n and .labels.interface == $i and .labels.reason == $r) | .value' <<<"$1"
}

@test "status --format prom: valid text format, HELP and TYPE for every family, every reason of every interface" {
	run "$TCACCEL" status --netns "$NS_ROUTER" --format prom
	assert_success
	local prom=$output samples nreasons
	run "$PROMCHECK" <<<"$prom"
	assert_success
	assert_output ""
	samples=$("$PROMCHECK" --json <<<"$prom")
	nreasons=$(wc -l <"$ROOT/build/tcaccel.reasons")
	local fam
	for fam in tcaccel_packets_total tcaccel_bytes_total; do
		grep -qx "# TYPE $fam counter" <<<"$prom"
		grep -qE "^# HELP $fam .{20,}" <<<"$prom"
		# Both interfaces, every reason, zeros included.
		assert_equal "$(jq --arg n "$fam" '[.[] | select(.name == $n and (.labels.interface | startswith("to-")))] | length' <<<"$samples")" \
			"$((2 * nreasons))"
	done
	assert_equal "$(jq -r '[.[] | select(.name == "tcaccel_packets_total") | .labels | keys | join(",")] | unique | join(" ")' <<<"$samples")" \
		"interface,netns,reason"
	assert_equal "$(jq -r '[.[] | .labels.netns] | unique | join(" ")' <<<"$samples")" "$NS_ROUTER"
	grep -qE "^tcaccel_attached\{netns=\"$NS_ROUTER\",interface=\"$RT_IF_CLIENT\"\} 1$" <<<"$prom"
	grep -qE "^tcaccel_enabled\{netns=\"$NS_ROUTER\",interface=\"$RT_IF_SERVER\"\} 1$" <<<"$prom"
	grep -qE "^tcaccel_interface_info\{netns=\"$NS_ROUTER\",interface=\"$RT_IF_CLIENT\",ifindex=\"[0-9]+\",mode=\"[a-z]+\",prog_id=\"[0-9]+\"\} 1$" <<<"$prom"
}

@test "prom values are the JSON status's: packets and bytes per interface and reason" {
	local json prom samples i r
	json=$("$TCACCEL" status --netns "$NS_ROUTER" --format json)
	prom=$("$TCACCEL" status --netns "$NS_ROUTER" --format prom)
	samples=$("$PROMCHECK" --json <<<"$prom")
	# The traffic: 30 requests in on to-client, 30 replies in on to-server.
	assert_equal "$(prom_value "$samples" tcaccel_packets_total "$RT_IF_CLIENT" REDIRECT)" 30
	assert_equal "$(prom_value "$samples" tcaccel_packets_total "$RT_IF_SERVER" REDIRECT)" 30
	# Packets and bytes of these reasons in both formats.  (The lab may emit
	# a multicast packet of its own between the two reads: MULTICAST and
	# NOT_FOR_US are left out, the rest cannot move.)
	for i in "$RT_IF_CLIENT" "$RT_IF_SERVER"; do
		for r in REDIRECT TTL_EXCEEDED FIB_NO_NEIGH NOT_IP; do
			assert_equal "$i $r $(prom_value "$samples" tcaccel_packets_total "$i" "$r") $(prom_value "$samples" tcaccel_bytes_total "$i" "$r")" \
				"$i $r $(jq -r --arg i "$i" --arg r "$r" '.[] | select(.iface == $i) | "\(.counters[$r].packets) \(.counters[$r].bytes)"' <<<"$json")"
		done
	done
	(($(prom_value "$samples" tcaccel_bytes_total "$RT_IF_CLIENT" REDIRECT) >= 30 * 98))
}

@test "make status FORMAT=prom is the same output" {
	run make -s -C "$ROOT" status NETNS="$NS_ROUTER" FORMAT=prom
	assert_success
	run "$PROMCHECK" <<<"$output"
	assert_success
	run make -s -C "$ROOT" status NETNS="$NS_ROUTER" FORMAT=prom
	assert_line --regexp "^tcaccel_packets_total\{netns=\"$NS_ROUTER\",interface=\"$RT_IF_CLIENT\",reason=\"REDIRECT\"\} 30$"
}

@test "nothing loaded: HELP and TYPE lines only, still valid; bad --format names the choices" {
	run "$TCACCEL" status --netns "$NS_CLIENT" --format prom
	assert_success
	run "$PROMCHECK" --json <<<"$output"
	assert_success
	assert_output "[]"
	run "$TCACCEL" status --format xml
	assert_failure
	assert_output --partial "--format must be one of: table, json, prom"
}

@test "label values are escaped (backslash, quote, newline) and read back intact" {
	# shellcheck source=scripts/lib/prom.sh
	source "$ROOT/scripts/lib/prom.sh"
	local row out
	row='[{"netns": "a\"b\\c", "iface": "x\ny", "ifindex": 7, "prog_id": null, "attached": false,
		"enabled": true, "mode": "redirect", "slot": 3, "counters": {"REDIRECT": {"packets": 5, "bytes": 500}}},
		{"netns": null, "iface": null, "slot": 0, "counters": {"DISABLED": {"packets": 2, "bytes": 84}}}]'
	out=$(status_prom <<<"$row")
	run "$PROMCHECK" --json <<<"$out"
	assert_success
	assert_equal "$(jq -c '[.[] | select(.name == "tcaccel_packets_total") | [.labels.netns, .labels.interface, .value]]' <<<"$output")" \
		'[["a\"b\\c","x\ny",5],["","(unconfigured)",2]]'
	assert_equal "$(jq -r '.[] | select(.name == "tcaccel_attached") | .value' <<<"$output")" 0
	grep -qF 'tcaccel_interface_info{netns="a\"b\\c",interface="x\ny",ifindex="7",mode="redirect",prog_id=""} 1' <<<"$out"
}

@test "the strict checker rejects what promtool rejects" {
	local good='# HELP x_total help
# TYPE x_total counter
x_total{a="1"} 1'
	run "$PROMCHECK" <<<"$good"
	assert_success
	local -A bad=(
		[duplicate]=$'# HELP x_total h\n# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2'
		[suffix]=$'# HELP x h\n# TYPE x counter\nx 1'
		[escape]=$'# HELP x_total h\n# TYPE x_total counter\nx_total{a="\\q"} 1'
		[late_type]=$'# HELP x_total h\nx_total 1\n# TYPE x_total counter'
		[timestamp]=$'# HELP x_total h\n# TYPE x_total counter\nx_total 1 1700000000000'
		[no_help]=$'# TYPE x_total counter\nx_total 1'
		[negative]=$'# HELP x_total h\n# TYPE x_total counter\nx_total -1'
		[split]=$'# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x="1"} 2'
		[label]=$'# HELP a h\n# TYPE a gauge\na{1x="1"} 1'
		[value]=$'# HELP a h\n# TYPE a gauge\na one'
	)
	local k
	for k in "${!bad[@]}"; do
		run "$PROMCHECK" <<<"${bad[$k]}"
		[[ "$status" -eq 1 && -n "$output" ]] || fail "promcheck accepted the '$k' case"
	done
}
