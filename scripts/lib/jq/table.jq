# SPDX-License-Identifier: GPL-2.0
# `tcaccel status` for people.  In: the status rows.  $none: what to say
# when there are none.
def pad($n): tostring | . + " " * ($n - length);
def lpad($n): tostring | " " * ($n - length) + .;
if length == 0 then $none else .[] |
"\(.netns // "(host)")  \(.iface // "(interfaces without config)")"
+ (if .ifindex then "  ifindex \(.ifindex)" else "" end)
+ (if .prog_id then "  prog \(.prog_id)" elif .slot == 0 then "" else "  (not attached)" end)
+ (if .slot == 0 then "" else "  mode \(.mode)" end)
+ (if .enabled or .slot == 0 then "" else "  DISABLED" end)
+ (if .firewall == "respect" then "  firewall respect"
	+ (if .conntrack_tracking then "" else " (conntrack NOT tracking!)" end)
   elif .firewall == "bypass" then "  firewall BYPASSED" else "" end)
+ (if .debug then "  debug" else "" end),
(if (.hook.others // []) | length > 0 then
	"    ingress hook: tcaccel at pref \(.hook.pref // "?"), "
	+ (.hook.others | map("\(.kind) pref \(.pref)" + (if .name then " (\(.name))" else "" end)
		+ (if .behind then " BEHIND tcaccel: sees only the packets tcaccel passes" else "" end))
	  | join(", "))
 else empty end),
(.counters | to_entries | map(select(.value.packets > 0))
	| if length == 0 then "    (no packets yet)"
	  else .[] | "    \(.key | pad(18))\(.value.packets | lpad(12)) pkts  \(.value.bytes) bytes" end)
end
