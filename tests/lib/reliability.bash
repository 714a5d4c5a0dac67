# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/lib/reliability.bash - helpers for the hostile-input and fault tests
# (50-matrix, 60-fuzz, 70-faults).  Loaded after helpers.bash.

MATRIX=$ROOT/tests/lib/matrix.py
FUZZ=$ROOT/tests/lib/fuzz.py
TRAFFIC=$ROOT/tests/lib/traffic.py
export MATRIX FUZZ TRAFFIC

# lab_quiet NS...: no IPv6 router solicitations from these namespaces' eth0.
# A host keeps soliciting (4 s, 8 s, 16 s, ...) and each one is a multicast
# frame on the router's ingress: a counter moving that no test sent.
lab_quiet() {
	local ns
	for ns in "$@"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.eth0.router_solicitations=0 \
			net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
	done
}

# lab_special_routes NS: routes whose FIB answer is not SUCCESS, and routes
# with a locked MTU, in the router lab, where tests/matrix.txt and
# tests/lib/fuzz.py expect them.
lab_special_routes() {
	local ns=$1
	in_ns "$ns" ip route add blackhole 198.18.50.0/24
	in_ns "$ns" ip route add unreachable 198.18.51.0/24
	in_ns "$ns" ip route add prohibit 198.18.52.0/24
	in_ns "$ns" ip -6 route add blackhole 2001:2:0:50::/64
	in_ns "$ns" ip -6 route add unreachable 2001:2:0:51::/64
	in_ns "$ns" ip -6 route add prohibit 2001:2:0:52::/64
	# behind the server, with a locked route MTU of 1300
	in_ns "$ns" ip route add 198.18.61.0/24 via "$SERVER_IP4" mtu lock 1300
	in_ns "$ns" ip -6 route add 2001:2:0:61::/64 via "$SERVER_IP6" mtu lock 1300
}

# run_matrix CATEGORIES: the cases of tests/matrix.txt in those categories
# (comma-separated), in the kernel, against the router lab's program.
run_matrix() {
	run "$MATRIX" --netns "$NS_ROUTER" --prog "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" \
		--pins "$(pin_dir "$NS_ROUTER")" --reasons "$ROOT/build/tcaccel.reasons" \
		--iface "client=$RT_IF_CLIENT" --iface "server=$RT_IF_SERVER" --iface lo=lo \
		--neigh "client=$CLIENT_MAC" --neigh "server=$SERVER_MAC" \
		--only "$1" "$ROOT/tests/matrix.txt"
	echo "$output"
	assert_success
	assert_output --regexp "matrix: [1-9][0-9]* cases, 0 failed"
}

# raw_send NS FRAME COUNT [IFACE]: send FRAME (a file) COUNT times from an
# AF_PACKET socket on IFACE (default eth0) in NS: nothing in the sender's
# stack checks or fixes it.
raw_send() {
	in_ns "$1" "$TRAFFIC" raw-send "${4:-eth0}" "$2" "$3"
}
