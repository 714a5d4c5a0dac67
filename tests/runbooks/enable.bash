# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Hooks for docs/runbooks/enable.md (see tests/lib/runbook.py).
# shellcheck source=tests/runbooks/lib.bash
source "$ROOT/tests/runbooks/lib.bash"

hook_setup() {
	# The runner pre-installs for the other runbooks; this one installs itself.
	make -s -C "$ROOT" uninstall >/dev/null
	[[ ! -e /usr/local/sbin/tcaccel ]] || rb_fail "tcaccel still installed before the runbook"
}

hook_after_install() {
	[[ "$(command -v tcaccel)" == /usr/local/sbin/tcaccel ]] || rb_fail "tcaccel is not /usr/local/sbin/tcaccel"
	[[ "$(readlink -f /usr/local/sbin/tcaccel)" == /usr/local/lib/tcaccel/tcaccel ]] || rb_fail "sbin link"
	[[ -f /usr/local/lib/systemd/system/tcaccel@.service ]] || rb_fail "unit not installed"
}

hook_after_load_it_now() {
	local i f0 r0
	for i in $IFACES; do [[ -n "$(rb_prog "$i")" ]] || rb_fail "not loaded on $i"; done
	f0=$(rb_fwd)
	r0=$(rb_redirects)
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 20
	[[ "$(($(rb_fwd) - f0)) $(($(rb_redirects) - r0))" == "0 40" ]] ||
		rb_fail "expected kernel +0, tcaccel +40 after 20 pings"
}

hook_after_keep_it_across_reboots() {
	[[ -f /etc/tcaccel/tcaccel.conf.example ]] || rb_fail "example config not copied"
	local i
	for i in $IFACES; do [[ -n "$(rb_prog "$i")" ]] || rb_fail "not loaded on $i"; done
	[[ "$(tc -j filter show dev "${IFACES%% *}" ingress | jq '[.[].pref] | unique | length')" == 1 ]] ||
		rb_fail "service start stacked a second filter"
}
