# SPDX-License-Identifier: GPL-2.0
#
# bench/table.jq - a bench result JSON -> the table, as text ($fmt == "text")
# or markdown ($fmt == "md").

def fixed($d): if . == null then "-" else
	(. * pow(10; $d) | round | tostring) as $s
	| if $d == 0 then $s
	  else ($s | if startswith("-") then "-" else "" end) as $sign
		| ($s | ltrimstr("-")) as $a
		| ("0" * ([$d + 1 - ($a | length), 0] | max) + $a) as $b
		| $sign + $b[0:($b | length) - $d] + "." + $b[($b | length) - $d:]
	  end end;
def lpad($n): tostring | " " * ([$n - length, 0] | max) + .;
def rpad($n): tostring | . + " " * ([$n - length, 0] | max);
# A value in its display unit.
def show($u): if . == null then "-"
	elif $u == "pps" then (. / 1000 | fixed(0)) + " k"
	elif $u == "Gbit/s" then fixed(2)
	else fixed(1) end;
def ratio($k): .ratios[$k] | if . == null then "" else fixed(2) + "x" end;
# "vs base": the row's own reference (program cost: the empty program's).
def base_name: if .group == "scale" then "1 ctr" elif .group == "sockmap" then "plain"
	elif (.ratios.fw_kernel != null) then "fw-kernel" elif (.ratios.empty != null) then "empty" else "" end;
def baseratio: if .ratios.base != null then ratio("base") elif .ratios.fw_kernel != null then ratio("fw_kernel")
	elif .ratios.empty != null then ratio("empty") else "" end;
def range: .unit as $u | "\(.min | show($u)) .. \(.max | show($u))";
def title: {forwarding: "forwarding: client -> router -> server (and the direct wire)",
	scale: "scale: LAN -> node -> container 1, tcaccel auto on the node's uplink",
	sockmap: "sockmap: local TCP in one netns",
	nat: "nat: docker lab, masqueraded c1 -> LAN (pps, TCP), LAN -> published port -> c1 (RTT)",
	parts: "parts of a forwarder: one 60-byte frame under bpftool prog run (tests/bpf/parts.bpf.c), vs the empty program"};
def mach: .machine | "\(.host), \(.cpu), \(.cpus) vCPUs, \(.memory), kernel \(.kernel), \(.virtualization); load average \(.loadavg_start) at the start, \(.loadavg_end) at the end";
def empty_runs: .empty_program_runs // {} | to_entries | map("\(.key) \(.value.run_cnt // "-")") | join(", ");
def runinfo: "\(.stamp)\(if .quick then " (QUICK: a check of the tool, not of the machine)" else "" end), \(.reps) rounds, \(.duration_s) s, commit \(.commit)";

. as $r
| if $fmt == "md" then
	"# tcaccel bench \($r.stamp)",
	"",
	"- run: \($r | runinfo)",
	"- machine: \($r | mach)",
	"- tools: \($r.tools | to_entries | map("\(.value)") | join("; "))",
	"- pps: \($r.settings.udp_flows) UDP flows of 64-byte frames, trafgen on CPU \($r.settings.generator_cpu) (the whole path runs in its softirq on that CPU), counted at the receiver; ratios are medians of per-round ratios (interleaved rounds), RTT and cost: lower is better; program cost vs base: vs the empty tc program (the empty row: kernel forwarding behind it)",
	"",
	( ["forwarding", "scale", "sockmap", "nat", "parts"][] as $g
	  | ($r.rows | map(select(.group == $g))) as $rows
	  | select($rows | length > 0)
	  | "## \(title[$g])",
	    "",
	    "| path | metric | median | min .. max | vs wire | vs kernel | vs base |",
	    "|---|---|---:|---:|---:|---:|---:|",
	    ($rows | sort_by(.metric, .path)[]
		| "| \(.path) | \(.label) (\(.unit)) | \(.unit as $u | .median | show($u)) | \(range) | \(ratio("wire")) | \(ratio("kernel")) | \(baseratio)\(if baseratio != "" then " (\(base_name))" else "" end) |"),
	    "" ),
	"## Targets",
	"",
	"| target | value | met |",
	"|---|---:|---|",
	($r.targets[] | "| \(.target)\(if .detail != "" then " — \(.detail)" else "" end) | \(.value | if . == null then "-" else fixed(3) end) \(.op) \(.threshold) | \(if .met then "yes" else "**no**" end) |"),
	"",
	"## Firewall semantics",
	"",
	($r.paths | to_entries[] | select(.value.firewall != null) | "- **\(.key)**: \(.value.firewall)"),
	"",
	"## Path checks",
	"",
	"- share of received packets the kernel forwarded (IpForwDatagrams), pps rows: " +
		($r.rows | map(select(.kernel_forwarded_share != null) | "\(.path) \(.kernel_forwarded_share)") | join(", ")),
	"- fast-path packets by reason: " + ($r.path_checks.fast_path_packets_by_reason | to_entries
		| map("\(.key) \(.value | to_entries | map("\(.key)=\(.value)") | join("+"))") | join(", ")),
	"- empty program runs (bpf_stats on): \($r.path_checks | empty_runs)",
	"- sockmap MSG_REDIRECT: \($r.path_checks.sockmap_counters.MSG_REDIRECT.events // 0) messages"
else
	"tcaccel bench \($r | runinfo)",
	"  \($r | mach)",
	"  vs wire / vs kernel / vs base: medians of per-round ratios; RTT and cost: lower is better;",
	"  program cost vs base: vs the empty tc program (path empty)",
	( ["forwarding", "scale", "sockmap", "nat", "parts"][] as $g
	  | ($r.rows | map(select(.group == $g))) as $rows
	  | select($rows | length > 0)
	  | "",
	    "== \(title[$g])",
	    "  \("path" | rpad(11))\("metric" | rpad(20))\("median" | lpad(10))  \("min .. max" | rpad(22))\("vs wire" | lpad(8))\("vs kernel" | lpad(10))\("vs base" | lpad(9))",
	    ($rows | sort_by(.metric, .path)[]
		| "  \(.path | rpad(11))\("\(.label) (\(.unit))" | rpad(20))\(.unit as $u | .median | show($u) | lpad(10))  \(range | rpad(22))\(ratio("wire") | lpad(8))\(ratio("kernel") | lpad(10))\(baseratio | lpad(9))\(if baseratio != "" then " (\(base_name))" else "" end)") ),
	"",
	"== targets",
	($r.targets[] | "  \(if .met then "met   " else "MISSED" end)  \(.value | if . == null then "-" else fixed(3) end | lpad(7)) \(.op) \(.threshold)  \(.target)\(if .detail != "" then " (\(.detail))" else "" end)"),
	"",
	"== firewall semantics",
	($r.paths | to_entries[] | select(.value.firewall != null) | "  \(.key): \(.value.firewall)"),
	"",
	"== path checks",
	"  kernel-forwarded share of received packets (pps): " +
		($r.rows | map(select(.kernel_forwarded_share != null) | "\(.path) \(.kernel_forwarded_share)") | join(", ")),
	"  fast-path packets by reason: " + ($r.path_checks.fast_path_packets_by_reason | to_entries
		| map("\(.key) \(.value | to_entries | map("\(.key)=\(.value)") | join("+"))") | join(", ")),
	"  empty program runs (bpf_stats on): \($r.path_checks | empty_runs)"
end
