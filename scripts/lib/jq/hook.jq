# SPDX-License-Identifier: GPL-2.0
# Where tcaccel's filter goes on each device's ingress hook, and what else
# is there.
# In: [[filters of dev 0], [filters of dev 1], ...] (`tc -j filter show dev
# D ingress` each).  $name: our program's name; $pref: a preference asked
# for (TCACCEL_PREF) or null; $min: the lowest preference we take by
# default (tc's own first automatic one, 49152).
# Out, per device: {ours: [prefs of our filters], others: [{pref, kind,
# handle, name}], want: the preference to attach at, or null when there is
# no room behind the others, conflict: the filter holding $pref, or null}.
def ours: .kind == "bpf" and (.options.prog.name? // "") == $name;
map(
	map(select(.options != null and (.chain // 0) == 0)) as $f
	| ($f | map(select(ours) | .pref) | unique) as $ours
	| ($f | map(select(ours | not)
		| {pref, kind, handle: (.options.handle // null),
		   name: (.options.prog.name? // .options.bpf_name? // null)}) | unique_by(.pref)) as $others
	| ($others | map(.pref) | max // 0) as $last
	| {ours: $ours, others: $others,
	   conflict: (if $pref == null then null
		else ($others | map(select(.pref == $pref)) | first // null) end),
	   want: (if $pref != null then $pref
		elif ($ours | length) > 0 and $ours[0] > $last and $ours[0] >= $min then $ours[0]
		else ([$min, $last + 1] | max) | if . > 65535 then null else . end end)}
)
