# SPDX-License-Identifier: GPL-2.0
#
# bench/report.jq - scripts/bench's samples -> the result JSON.
#
# Input: an array of samples [group, path, metric, round, value, extra]
# (strings, from the run's TSV); $meta: the run's metadata object.
# Output: $meta + rows (one per group/path/metric: samples by round,
# median, min, max, ratios) + targets (the issue's, met or not).
#
# Ratios are paired by round: for every round in which both the row and
# its reference have a sample, value / reference; the ratio is the median
# of those, with their min and max.  Interleaved rounds make the pairs
# comparable; a lone absolute number never is.

def num: if . == null or . == "" then null else tonumber end;
def median: sort | length as $n
	| if $n == 0 then null
	  elif $n % 2 == 1 then .[($n - 1) / 2]
	  else (.[$n / 2 - 1] + .[$n / 2]) / 2 end;
def r3: if . == null then null else . * 1000 | round / 1000 end;

def units: {pps: "pps", tcp1: "Gbit/s", tcp4: "Gbit/s", udp_p50: "us", udp_p99: "us",
	tcp_p50: "us", tcp_p99: "us", cost: "ns", run: "ns"};
def better($m): if $m == "pps" or ($m | startswith("tcp") and (test("_p") | not)) then "higher" else "lower" end;
def labels: {pps: "64 B UDP pps", tcp1: "TCP 1 stream", tcp4: "TCP 4 streams",
	udp_p50: "UDP RTT p50", udp_p99: "UDP RTT p99", tcp_p50: "TCP RTT p50", tcp_p99: "TCP RTT p99",
	cost: "program cost", run: "prog run"};

# The references of a row: name -> path (in the same group and metric).
# Program cost has one: the empty program's (the floor, same run).
def refs($g; $p; $m):
	if ($g == "forwarding" and $m == "cost") or $g == "parts" then {empty: "empty"}
	elif $g == "forwarding" then
		{wire: "wire", kernel: "kernel"}
		+ (if $p == "fw-respect" or $p == "fw-bypass" then {fw_kernel: "fw-kernel"} else {} end)
	elif $g == "scale" then {base: "c1"}
	elif $g == "nat" then {kernel: "nat-kernel"}
	elif $g == "sockmap" then {base: "tcp"}
	else {} end;

map({group: .[0], path: .[1], metric: .[2], round: (.[3] | tonumber), value: (.[4] | num),
	extra: (.[5] | num)}) | map(select(.value != null)) as $s

# value of (group, path, metric) in each round: {"0": v, ...}
| ($s | group_by([.group, .path, .metric])
	| map({key: (.[0] | "\(.group)/\(.path)/\(.metric)"),
		value: (map({key: (.round | tostring), value: .value}) | from_entries)})
	| from_entries) as $by

| ($s | group_by([.group, .path, .metric]) | map(
	.[0] as $f
	| (map(.value)) as $v
	| (map(.extra) | map(select(. != null))) as $x
	| $by["\($f.group)/\($f.path)/\($f.metric)"] as $mine
	# per reference: the per-round ratios [{key, q: [value / reference]}]
	| [refs($f.group; $f.path; $f.metric) | to_entries[]
		| $by["\($f.group)/\(.value)/\($f.metric)"] as $ref
		| select($ref != null)
		| {key: .key, q: [$mine | to_entries[] | select($ref[.key] != null) | .value / $ref[.key]]}
		| select(.q | length > 0)] as $q
	| {group: $f.group, path: $f.path, metric: $f.metric, label: labels[$f.metric],
	   unit: units[$f.metric], better: better($f.metric),
	   samples: (sort_by(.round) | map(.value)),
	   median: ($v | median), min: ($v | min), max: ($v | max),
	   ratios: ($q | map({key: .key, value: (.q | median | r3)}) | from_entries),
	   ratio_ranges: ($q | map({key: .key, value: [(.q | min | r3), (.q | max | r3)]}) | from_entries)}
	+ (if ($x | length) > 0 then {kernel_forwarded_share: ($x | median | r3)} else {} end)
	)) as $rows

| def row($g; $p; $m): first($rows[] | select(.group == $g and .path == $p and .metric == $m)) // null;
  def ratio($g; $p; $m; $k): row($g; $p; $m) | if . == null then null else .ratios[$k] end;
  def scale_detail($points): $points | map(ratio("scale"; .[1]; "pps"; "base") as $x
	| select($x != null) | "\(.[0]): \($x)x") | join(", ");
  def target($id; $text; $value; $op; $thr; $detail):
	{id: $id, target: $text, value: $value, threshold: $thr, op: $op, detail: $detail,
	 met: (if $value == null then false
	       elif $op == ">=" then $value >= $thr
	       elif $op == "<=" then $value <= $thr
	       elif $op == "<" then $value < $thr
	       else false end)};

  ["redirect", "peer", "neigh", "auto"] as $modes
| ($modes | map(row("forwarding"; .; "pps")) | map(select(. != null))
	| max_by(.median) // null) as $best
| ([["c20", "c100"], ["r10k", "r100k"]] | map(map(ratio("scale"; .; "pps"; "base"))
	| map(select(. != null)) | if length == 0 then null else map(. - 1 | fabs) | max | r3 end)) as $spread
# EVERY mode: the worst of them (WORST: min or max), null unless all were
# measured; detail: each mode's ratio ("-" where none).
| def every($m; $k; worst):
	($modes | map({path: ., r: ratio("forwarding"; .; $m; $k)})) as $per
	| {value: (if any($per[]; .r == null) then null else $per | map(.r) | worst end),
	   detail: ($per | map("\(.path) \(if .r == null then "-" else "\(.r)x" end)") | join(", "))};
  def ns: if . == null then "-" else "\(r3) ns" end;
  every("tcp1"; "kernel"; min) as $tcp1
| every("tcp4"; "kernel"; min) as $tcp4
| every("cost"; "empty"; max) as $cost
| ($modes | map("\(.) \(row("forwarding"; .; "cost").median | ns): \(ratio("forwarding"; .; "cost"; "empty") // "-")x")
	+ ["empty \(row("forwarding"; "empty"; "cost").median | ns)"] | join(", ")
	+ "; under prog run: one bpf_fib_lookup() alone \(ratio("parts"; "fib"; "run"; "empty") // "-")x the empty program, the least forwarder \(ratio("parts"; "redirect"; "run"; "empty") // "-")x, tcaccel \(ratio("parts"; "tcaccel"; "run"; "empty") // "-")x") as $cost_detail
| $meta + {rows: $rows, targets: [
	target("pps_vs_kernel"; "64 B pps: best fast mode >= 1.20x plain kernel forwarding";
		$best.ratios.kernel; ">="; 1.2; "best fast mode: \($best.path // "none")"),
	target("pps_vs_wire"; "64 B pps: best fast mode >= 0.85x the direct wire";
		$best.ratios.wire; ">="; 0.85; "best fast mode: \($best.path // "none")"),
	target("tcp1_vs_kernel"; "TCP 1 stream: every fast mode >= 1.00x kernel forwarding";
		$tcp1.value; ">="; 1; $tcp1.detail),
	target("tcp4_vs_kernel"; "TCP 4 streams: every fast mode >= 1.00x kernel forwarding";
		$tcp4.value; ">="; 1; $tcp4.detail),
	target("cost_vs_empty"; "program cost <= 4x the empty tc program's, every mode (firewall off)";
		$cost.value; "<="; 4;
		$cost_detail),
	target("pps_firewall"; "64 B pps with the 300-rule firewall, respect mode (the rules' per-flow decisions kept): >= 3x kernel forwarding with the rules";
		ratio("forwarding"; "fw-respect"; "pps"; "fw_kernel"); ">="; 3; ""),
	target("pps_firewall_bypass"; "64 B pps with the 300-rule firewall, bypass mode (rules skipped): >= 3x kernel forwarding with the rules";
		ratio("forwarding"; "fw-bypass"; "pps"; "fw_kernel"); ">="; 3; ""),
	target("lat_udp_p50_vs_wire"; "UDP RTT p50 (mode auto) within 5% of the direct wire";
		ratio("forwarding"; "auto"; "udp_p50"; "wire"); "<="; 1.05; ""),
	target("lat_tcp_p50_vs_wire"; "TCP RTT p50 (mode auto) within 5% of the direct wire";
		ratio("forwarding"; "auto"; "tcp_p50"; "wire"); "<="; 1.05; ""),
	target("lat_udp_p50_vs_kernel"; "UDP RTT p50 (mode auto) below kernel forwarding";
		ratio("forwarding"; "auto"; "udp_p50"; "kernel"); "<"; 1; ""),
	target("lat_tcp_p50_vs_kernel"; "TCP RTT p50 (mode auto) below kernel forwarding";
		ratio("forwarding"; "auto"; "tcp_p50"; "kernel"); "<"; 1; ""),
	target("scale_containers"; "pps from 1 to 100 containers within 10% (largest deviation)";
		$spread[0]; "<="; 0.10; scale_detail([["20", "c20"], ["100", "c100"]])),
	target("scale_routes"; "pps from 1 to 100k routes within 10% (largest deviation)";
		$spread[1]; "<="; 0.10; scale_detail([["10k", "r10k"], ["100k", "r100k"]])),
	target("nat_pps"; "64 B pps of masqueraded flows (docker lab): fast path >= 2.5x the kernel's NAT";
		ratio("nat"; "nat-fast"; "pps"; "kernel"); ">="; 2.5;
		"TCP 1 stream \(ratio("nat"; "nat-fast"; "tcp1"; "kernel"))x, published-port TCP RTT p50 \(ratio("nat"; "nat-fast"; "tcp_p50"; "kernel"))x")
  ]}
