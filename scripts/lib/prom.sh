# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/prom.sh - `tcaccel status --format prom`: the status JSON
# (status_json in scripts/tcaccel) as Prometheus text exposition format
# 0.0.4, for node_exporter's textfile collector.  Sourced, never run.
#
#   tcaccel_packets_total{netns, interface, reason}   counter
#   tcaccel_bytes_total{netns, interface, reason}     counter
#   tcaccel_interface_info{netns, interface, ifindex, mode, prog_id}  gauge, 1
#   tcaccel_attached{netns, interface}                gauge, 0/1
#   tcaccel_enabled{netns, interface}                 gauge, 0/1
#
# netns="" is the namespace tcaccel runs in (Prometheus reads an empty label
# as an absent one); interface="(unconfigured)" is slot 0, packets seen on
# interfaces that carry the filter but have no config.  Every reason is
# written, zeros included, so rate() has a series from the first scrape.
# No timestamps: the textfile collector refuses them.

# shellcheck disable=SC2016 # jq program, not shell expansions
readonly TCACCEL_JQ_PROM='
def esc: tostring | gsub("\\\\"; "\\\\") | gsub("\""; "\\\"") | gsub("\n"; "\\n");
def lbl($pairs): "{" + ($pairs | map("\(.[0])=\"\(.[1] | esc)\"") | join(",")) + "}";
def who: [["netns", (.netns // "")], ["interface", (.iface // "(unconfigured)")]];
def family($name; $type; $help; samples):
	"# HELP \($name) \($help)", "# TYPE \($name) \($type)", samples;
. as $rows
| family("tcaccel_packets_total"; "counter";
	"Packets seen at tc ingress by tcaccel, by decision; reasons REDIRECT, PEER, NEIGH and NAT_REDIRECT, NAT_PEER, NAT_NEIGH = forwarded on the fast path, every other reason = handed to the kernel unchanged.";
	$rows[] | (who) as $who | .counters | to_entries[]
	| "tcaccel_packets_total\(lbl($who + [["reason", .key]])) \(.value.packets)"),
  family("tcaccel_bytes_total"; "counter";
	"Bytes (skb->len at tc ingress, Ethernet header included) seen by tcaccel, by decision.";
	$rows[] | (who) as $who | .counters | to_entries[]
	| "tcaccel_bytes_total\(lbl($who + [["reason", .key]])) \(.value.bytes)"),
  family("tcaccel_interface_info"; "gauge";
	"One series per interface with a tcaccel config; the value is always 1.";
	$rows[] | select(.slot != 0)
	| "tcaccel_interface_info\(lbl(who + [["ifindex", .ifindex], ["mode", .mode], ["prog_id", (.prog_id // "")]])) 1"),
  family("tcaccel_attached"; "gauge";
	"1 when the tcaccel program is attached to the interface tc ingress, else 0.";
	$rows[] | select(.slot != 0)
	| "tcaccel_attached\(lbl(who)) \(if .attached then 1 else 0 end)"),
  family("tcaccel_enabled"; "gauge";
	"1 when the interface is enabled in tcaccel_cfg (packets are considered for the fast path), else 0.";
	$rows[] | select(.slot != 0)
	| "tcaccel_enabled\(lbl(who)) \(if .enabled then 1 else 0 end)")
'

# status_prom: status JSON (an array of interface rows) on stdin, the
# Prometheus text format on stdout.
status_prom() {
	jq -r "$TCACCEL_JQ_PROM"
}
