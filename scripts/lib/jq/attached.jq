# SPDX-License-Identifier: GPL-2.0
# attached($net; $progs; $name): our program's clsact ingress attachments
# in one netns: [{ifindex, devname, id, ...}].  $net: `bpftool -j net
# show` there; $progs: `bpftool -j prog show`; $name: the program's name.
# (A jq module: jq -L scripts/lib/jq 'include "attached"; ...'.)
def attached($net; $progs; $name):
	($progs | map(select(.name == $name) | .id)) as $ours
	| [$net[]?.tc[]? | select(.kind == "clsact/ingress") | select(.id as $id | $ours | index($id))];
