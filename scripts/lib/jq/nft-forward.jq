# SPDX-License-Identifier: GPL-2.0
# One line per nftables chain on the forward path that bpf_redirect would
# bypass: a base chain at prerouting/forward/postrouting (ip, ip6, inet) or
# at a netdev ingress/egress hook, with a rule or a drop policy.  tcaccel's
# own table (inet tcaccel) is not the user's policy and is left out.
# In: `nft -j list ruleset`.
.nftables as $all
| $all[] | .chain? // empty
| select(.hook != null)
| select((.family == "inet" and .table == "tcaccel") | not)
| select(((.family == "ip" or .family == "ip6" or .family == "inet")
	and (.hook == "prerouting" or .hook == "forward" or .hook == "postrouting"))
	or .hook == "ingress" or .hook == "egress")
| . as $c
| ([$all[] | .rule? // empty | select(.family == $c.family and .table == $c.table
	and .chain == $c.name)] | length) as $n
| select($n > 0 or .policy == "drop")
| "nft \(.family) \(.table) \(.name): hook \(.hook), policy \(.policy // "accept"), \($n) rule(s)"
