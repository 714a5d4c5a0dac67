# SPDX-License-Identifier: GPL-2.0
# The status rows of one netns: one per config entry, plus one for slot 0
# (interfaces with the filter but no config) when it counted anything.
# In: null.  $ns: the netns ("" = this one); $cfg: cfg_entries; $stats:
# [{slot, v: {p: [packets by reason], b: [bytes by reason]}}]; $links:
# `ip -j link show`; $att: attached()'s; $hooks: {ifindex: hook.jq
# entry}; $reasons: build/tcaccel.reasons; $modes: mode names by value;
# $tracking: conntrack tracks the netns; $gate, $bypass: the flag bits.
($att | map({key: (.ifindex | tostring), value: .id}) | from_entries) as $attached
| ($reasons | split("\n") | map(select(length > 0) | split("\t")
	| {i: (.[0] | tonumber), name: .[1]})) as $rs
| (if $ns == "" then null else $ns end) as $nsv
| def counters($slot):
	(($stats | map(select(.slot == $slot)) | first) // {v: {p: [], b: []}}).v as $v
	| $rs | map({key: .name, value: {packets: ($v.p[.i] // 0), bytes: ($v.b[.i] // 0)}})
	| from_entries;
  def bit($b): (. / $b | floor) % 2 == 1;
  def hook($i): ($hooks[$i | tostring] // null) as $h
	| if $h == null then null else
	  {pref: ($h.ours[0] // null),
	   others: ($h.others | map(. + {behind: ((.pref) > ($h.ours[0] // 65536))}))} end;
($links | map({key: (.ifindex | tostring), value: .ifname}) | from_entries) as $names
| ($cfg | sort_by(.ifindex) | map({
	netns: $nsv, iface: ($names[.ifindex | tostring] // null),
	ifindex, prog_id: ($attached[.ifindex | tostring] // null),
	attached: ($attached[.ifindex | tostring] != null),
	enabled: (.enabled == 1), mode: ($modes[.mode] // "unknown"),
	firewall: (if (.flags | bit($gate)) then "respect"
		elif (.flags | bit($bypass)) then "bypass" else "none" end),
	conntrack_tracking: $tracking,
	debug: (.debug == 1), slot,
	hook: hook(.ifindex),
	counters: counters(.slot)}))
+ ([counters(0)] | map(select([.[].packets] | add > 0))
	| map({netns: $nsv, iface: null, ifindex: null, prog_id: null, attached: false,
		enabled: false, mode: "unconfigured", debug: false, slot: 0, hook: null, counters: .}))
