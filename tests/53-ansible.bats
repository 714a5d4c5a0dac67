#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The Ansible role (deploy/ansible), run with Debian's ansible-core against
# the cluster lab: an inventory whose hosts are the lab's nodes (connection
# local, tcaccel_netns = the node's namespace).  systemd is not PID 1 here,
# so the role runs what the units run (tcaccel_use_systemd: false:
# `tcaccel service start|stop`); it still installs the package for real,
# with apt, and enables the units (systemctl works on unit files offline).
# All of that lands in a throw-away root: overlays on /usr, /etc and /var,
# mounted in a private mount namespace for each ansible-playbook run, their
# upper layers kept from one test to the next.
# tests/run: serial (apt and dpkg)

load helpers

setup_file() {
	export NODES=2 PODS=2 OVERLAY=vxlan
	lab_up cluster
	export T=$BATS_FILE_TMPDIR AD=$ROOT/deploy/ansible DEB
	make -s -C "$ROOT" deb >"$T/make-deb.log" 2>&1 || { cat "$T/make-deb.log" >&2; return 1; }
	DEB=$ROOT/build/tcaccel_$("$ROOT/scripts/version")_$(dpkg-architecture -qDEB_HOST_ARCH).deb
	[[ -f "$DEB" ]]
	local d
	for d in _usr _etc _var; do mkdir -p "$T/root/$d/up" "$T/root/$d/work"; done
	cat >"$T/inventory.yml" <<EOF
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
    ansible_become: false
    tcaccel_deb: $DEB
    tcaccel_use_systemd: false
    tcaccel_enable_units: true
  hosts:
    # One instance per interface (conntrack-gated: firewall respect) ...
    node1:
      tcaccel_netns: $N1_NS
      tcaccel_interfaces: [eth0, vxlan0, veth-p1, veth-p2]
      tcaccel_firewall: respect
    # ... and one for all of them (pods come and go).  The lab's nodes are
    # one machine: node1 installs the package for both.
    node2:
      tcaccel_netns: $N2_NS
      tcaccel_interfaces: [all]
      tcaccel_install: false
EOF
	# The repository's ansible.cfg, nothing from this machine or user.
	export ANSIBLE_CONFIG=$AD/ansible.cfg ANSIBLE_LOCAL_TEMP=$T/ansible-local \
		ANSIBLE_REMOTE_TEMP=$T/ansible-remote ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
	in_root rm -f /var/lib/man-db/auto-update # no mandb in dpkg's triggers
	head -c 4M /dev/urandom >"$T/data"
}

teardown_file() {
	lab_down
}

# in_root CMD...: CMD with the throw-away root's overlays mounted.
in_root() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private -- bash -c '
		set -Eeuo pipefail
		r=$1
		shift
		for d in /usr /etc /var; do
			n=${d//\//_}
			mount -t overlay overlay -o "lowerdir=$d,upperdir=$r/$n/up,workdir=$r/$n/work" "$d"
		done
		export PATH=/usr/sbin:/usr/bin:/sbin:/bin
		exec "$@"' in_root "$T/root" "$@"
}

# play NAME: ansible-playbook NAME.yml on the lab inventory; output in $output
# and $T/NAME.N.log.
play() {
	PLAYS=$((${PLAYS:-0} + 1))
	# shellcheck disable=SC2016 # expanded by the inner bash
	run in_root bash -c 'cd "$1" && ansible-playbook -i "$2" "$3.yml"' play "$AD" "$T/inventory.yml" "$1"
	printf '%s\n' "$output" >"$T/$1.$BATS_TEST_NUMBER.$PLAYS.log"
}

# recap HOST FIELD: a number from the PLAY RECAP line of HOST.
recap() {
	sed -nE "s/^$1 +:.* $2=([0-9]+).*/\\1/p" <<<"$output"
}

# flow: 4 MB pod n1p1 -> pod n2p1 over TCP, sha256 checked; each node's
# kernel-forwarded count in FLOW_1, FLOW_2.
flow() {
	local out=$BATS_TEST_TMPDIR/received a b
	a=$(ns_fwd "$N1_NS") b=$(ns_fwd "$N2_NS")
	bg "$N2P1_NS" "$BATS_TEST_TMPDIR/listen.log" timeout 30 \
		socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$out,creat,trunc"
	wait_listen "$N2P1_NS" 5001
	timeout 30 nsenter --net="$(netns_path "$N1P1_NS")" -- socat -u "OPEN:$T/data" "TCP:$N2P1_IP4:5001"
	wait "$BG_PID"
	[[ "$(sha256sum <"$out")" == "$(sha256sum <"$T/data")" ]]
	FLOW_1=$(($(ns_fwd "$N1_NS") - a)) FLOW_2=$(($(ns_fwd "$N2_NS") - b))
}

NODE_IFACES="eth0 vxlan0 veth-p1 veth-p2"

@test "the playbooks and the example inventory parse; only ansible.builtin modules" {
	run bash -c 'cd "$1" && ansible-playbook --syntax-check -i inventory.example.yml site.yml rollback.yml' _ "$AD"
	assert_success
	run ansible-inventory -i "$AD/inventory.example.yml" --list
	assert_success
	assert_output --partial "edge1.example.net"
	# Every module a task names is ansible.builtin.* (no collections offline).
	local modules
	modules=$(grep -hE '^ +(- )?[a-z_]+\.[a-z_]+\.[a-z_]+:' "$AD"/roles/tcaccel/*/*.yml | sed -E 's/^ +(- )?//; s/:.*//' | sort -u)
	[[ "$modules" == *ansible.builtin.template* ]]
	assert_equal "$(grep -v '^ansible\.builtin\.' <<<"$modules")" ""
}

@test "site.yml rolls tcaccel out to the lab's nodes: package, configs, units, every interface loaded, both nodes' fast path" {
	# The kernel path first: the same flow without tcaccel.
	flow
	local k0_1=$FLOW_1 k0_2=$FLOW_2
	((k0_1 >= 50 && k0_2 >= 50))

	play site
	assert_success
	assert_equal "$(recap node1 failed) $(recap node2 failed)" "0 0"
	(($(recap node1 changed) > 0 && $(recap node2 changed) > 0))

	# The package, installed by apt in the throw-away root, and the files.
	# shellcheck disable=SC2016 # dpkg-query's format
	run in_root dpkg-query -W -f '${Status} ${Version}' tcaccel
	assert_output "install ok installed $("$ROOT/scripts/version")"
	run in_root cat "/etc/tcaccel/$N1_NS-eth0.conf"
	assert_line "IFACE=eth0"
	assert_line "NETNS=$N1_NS"
	assert_line "MODE=auto"
	assert_line "FIREWALL=respect"
	run in_root cat "/etc/tcaccel/$N2_NS-all.conf"
	assert_line "IFACE=all"
	assert_line "NETNS=$N2_NS"
	run in_root bash -c 'cd /etc/systemd/system && ls -1 multi-user.target.wants | grep "^tcaccel@" | sort'
	assert_output "$(printf 'tcaccel@%s.service\n' "$N1_NS-eth0" "$N1_NS-veth-p1" "$N1_NS-veth-p2" "$N1_NS-vxlan0" "$N2_NS-all")"

	# Every node interface carries the program ...
	local ns dev
	for ns in "$N1_NS" "$N2_NS"; do
		for dev in $NODE_IFACES; do
			[[ -n "$(our_prog "$ns" "$dev")" ]] || fail "no tcaccel on $dev in $ns"
		done
	done
	run "$TCACCEL" status --netns "$N1_NS" --format json
	assert_equal "$(jq -r '[.[] | select(.iface) | .firewall] | unique | join(" ")' <<<"$output")" respect
	# ... and cross-node traffic is off both nodes' kernel path.
	flow
	echo "# after site.yml: node 1 kernel-forwarded $FLOW_1 (was $k0_1), node 2 $FLOW_2 (was $k0_2)" >&3
	((FLOW_1 * 10 < k0_1 && FLOW_2 * 10 < k0_2))
}

@test "a second run changes nothing (changed=0)" {
	play site
	assert_success
	assert_equal "$(recap node1 changed) $(recap node2 changed)" "0 0"
}

@test "rollback.yml: no filter, no pin, no unit enabled, no config; a second rollback changes nothing" {
	play rollback
	assert_success
	assert_equal "$(recap node1 failed) $(recap node2 failed)" "0 0"
	local ns dev
	for ns in "$N1_NS" "$N2_NS"; do
		for dev in $(in_ns "$ns" ip -j link show | jq -r '.[].ifname'); do
			assert_equal "$dev: $(filters "$ns" "$dev")" "$dev: 0"
			run has_clsact "$ns" "$dev"
			assert_failure
		done
		[[ ! -e "$(pin_root "$ns")" ]] || fail "pins left for $ns"
		run in_ns "$ns" nft list tables
		refute_output --partial tcaccel
	done
	run in_root bash -c 'find /etc/systemd/system -name "tcaccel@*"; find /etc/tcaccel -type f' 
	assert_success
	assert_output ""

	play rollback
	assert_success
	assert_equal "$(recap node1 changed) $(recap node2 changed)" "0 0"
	# This machine's own dpkg database never saw the package.
	run dpkg-query -W tcaccel
	assert_failure
}
