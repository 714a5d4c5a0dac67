# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Hooks for docs/runbooks/verify.md (see tests/lib/runbook.py).
# shellcheck source=tests/runbooks/lib.bash
source "$ROOT/tests/runbooks/lib.bash"

# Mode redirect, so that the REDIRECT counts the test reads are exact.
hook_setup() { RB_LOAD_MODE=redirect rb_load_all; }

# The traffic the reader's host would have: 100 IPv4 and 100 IPv6 pings
# through the router (requests and replies: 400 packets).
hook_before_3_read_again_while_traffic_flows() {
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 100
	rb_ping "$NS_CLIENT" "$SERVER_IP6" 100
}

hook_before_4_metrics_for_prometheus() {
	mkdir -p /var/lib/prometheus/node-exporter   # as prometheus-node-exporter does
}

# Run the cron line's command as cron would (/bin/sh, an empty environment
# with cron's PATH=/usr/bin:/bin, then the file's own NAME=value lines) and
# check what node_exporter would read.
hook_after_4_metrics_for_prometheus() {
	local cmd f=/var/lib/prometheus/node-exporter/tcaccel.prom
	local -a envs
	cmd=$(sed -n 's/^\* \* \* \* \* root //p' /etc/cron.d/tcaccel-prom)
	[[ -n "$cmd" ]] || rb_fail "no every-minute root line in /etc/cron.d/tcaccel-prom"
	mapfile -t envs < <(grep -E '^[A-Z_]+=' /etc/cron.d/tcaccel-prom)
	env -i PATH=/usr/bin:/bin "${envs[@]}" /bin/sh -c "$cmd" || rb_fail "the cron command failed"
	[[ -s "$f" && ! -e "$f.tmp" ]] || rb_fail "$f not written, or the .tmp left behind"
	/usr/bin/python3 "$ROOT/tests/lib/promcheck.py" "$f" || rb_fail "$f is not valid"
	grep -qE "^tcaccel_packets_total\{netns=\"\",interface=\"$RT_IF_CLIENT\",reason=\"REDIRECT\"\} [1-9][0-9]*$" "$f" ||
		rb_fail "no REDIRECT packets for $RT_IF_CLIENT in $f"
}
