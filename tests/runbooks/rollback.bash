# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Hooks for docs/runbooks/rollback.md (see tests/lib/runbook.py).
# shellcheck source=tests/runbooks/lib.bash
source "$ROOT/tests/runbooks/lib.bash"

hook_setup() {
	rb_load_all
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 10
	(($(rb_redirects) >= 20)) || rb_fail "not on the fast path before the rollback"
}

hook_after_the_one_command() {
	local i
	for i in $IFACES; do
		[[ -z "$(rb_prog "$i")" ]] || rb_fail "still loaded on $i"
		tc -j qdisc show dev "$i" | jq -e 'any(.[]; .kind == "clsact") | not' >/dev/null ||
			rb_fail "clsact left on $i"
	done
	[[ ! -e /sys/fs/bpf/tcaccel/host ]] || rb_fail "pins left behind"
}

# Traffic keeps flowing, now through the kernel.
hook_before_check() {
	RB_FWD0=$(rb_fwd)
	rb_ping "$NS_CLIENT" "$SERVER_IP4" 20
}

hook_after_check() {
	(($(rb_fwd) - RB_FWD0 == 40)) || rb_fail "the kernel did not forward the 40 packets"
}

hook_after_remove_it_from_the_host() {
	[[ ! -e /usr/local/sbin/tcaccel && ! -e /usr/local/lib/tcaccel ]] || rb_fail "still installed"
	[[ ! -e /usr/local/lib/systemd/system/tcaccel@.service ]] || rb_fail "unit still installed"
}
