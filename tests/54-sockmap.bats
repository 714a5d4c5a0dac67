#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The socket-level fast path (bpf/sockmap.bpf.c, `tcaccel sockmap`).
#
# tests/run gives us a private bpffs and netns, but the cgroup filesystem
# is the host's: every cgroup made here has a random name and teardown
# empties (kills what we started in it) and removes it.  Each proof of
# "redirected" reads the sk_msg counters and the sockhash; each proof of
# "correct" compares SHA-256 of the bytes sent and received.

load helpers
# shellcheck source=scripts/lib/sockmap.sh
source "$ROOT/scripts/lib/sockmap.sh"

SOCKTEST=$ROOT/tests/lib/socktest.py

setup_file() {
	lab_up router
	export TCACCEL_SOCKMAP_CGROUP="tcaccel-test-$LAB"
	CG2=$(cg2_mount)
	export CG2 CG="$CG2/$TCACCEL_SOCKMAP_CGROUP" CG_OTHER="$CG2/tcaccel-test-$LAB-other"
	head -c 200M /dev/urandom >"$BATS_FILE_TMPDIR/data200"
}

teardown_file() {
	cg_cleanup
	lab_down
}

# Loaded once per file (load and unload cost seconds on a busy machine);
# a test that unloads gets it back from the next setup.  Counters thus
# add up across tests: every check compares before and after.
setup() {
	if [[ ! -e "$TCACCEL_BPFFS/tcaccel/sockmap/tcaccel_sockops" || ! -d "$CG" ]]; then
		"$TCACCEL" sockmap load >/dev/null 2>&1
	fi
}

teardown() {
	cg_kill
	# a test's second cgroup goes (attachments go with it)
	if [[ -d "$CG_OTHER" ]]; then rmdir "$CG_OTHER"; fi
}

# Kill what we started inside our cgroups (by pid) and wait until they
# are empty: their sockets are closed then.
cg_kill() {
	local cg pid
	for cg in "$CG" "$CG_OTHER"; do
		[[ -d "$cg" ]] || continue
		while read -r pid; do
			kill -9 "$pid" 2>/dev/null || true
		done <"$cg/cgroup.procs"
		wait_until 10 bash -c "[[ -z \"\$(cat '$cg/cgroup.procs')\" ]]" || true
	done
	return 0
}

# ... then detach, unpin and remove them.
cg_cleanup() {
	local cg
	cg_kill
	"$TCACCEL" sockmap unload >/dev/null 2>&1 || true
	for cg in "$CG" "$CG_OTHER"; do
		if [[ -d "$cg" ]]; then rmdir "$cg" 2>/dev/null || true; fi
	done
	return 0
}

# --- reading state -------------------------------------------------------------

sm_json() { "$TCACCEL" sockmap status --format json; }
sm_events() { sm_json | jq -r --arg r "$1" '.counters[$r].events'; }
sm_bytes() { sm_json | jq -r --arg r "$1" '.counters[$r].bytes'; }
sm_sockets() { sm_json | jq -r '.sockets'; }
# ev/by JSON REASON: events/bytes of REASON in a status snapshot.
ev() { jq -r --arg r "$2" '.counters[$r].events' <<<"$1"; }
by() { jq -r --arg r "$2" '.counters[$r].bytes' <<<"$1"; }
sockets_are() { [[ "$(sm_sockets)" == "$1" ]]; }
# All counters as one line, to compare before/after.
sm_counters() { sm_json | jq -c '.counters'; }

# in_cg CMD...: run CMD inside the test cgroup (foreground).
in_cg() { "$TCACCEL" sockmap exec -- "$@"; }

# bg_cg LOG CMD...: the same in the background; pid in BG_PID.
bg_cg() {
	local logf=$1
	shift
	"$TCACCEL" sockmap exec -- "$@" >"$logf" 2>&1 3>&- &
	BG_PID=$!
}

listening() { ss -Htln "sport = :$1" | grep -q .; }
file_size_is() { [[ -f "$1" && "$(stat -c %s "$1")" == "$2" ]]; }

# --- the object and the CLI ----------------------------------------------------

@test "sockmap object: sockops + sk_msg programs, maps tcaccel_*, GPL, reason table from the header" {
	local obj=$ROOT/build/sockmap.bpf.o maps
	run llvm-objdump -h "$obj"
	assert_output --regexp " sockops +[0-9a-f]+ "
	assert_output --regexp " sk_msg +[0-9a-f]+ "
	assert_output --regexp " license "
	maps=$(llvm-objdump -t "$obj" | awk '$4 == ".maps" { print $NF }')
	assert_equal "$(sort <<<"$maps" | paste -sd' ')" "tcaccel_sock_hash tcaccel_sock_state tcaccel_sock_stats"
	run grep -c 'X(' "$ROOT/bpf/include/sock_reasons.h"
	assert_equal "$(wc -l <"$ROOT/build/sockmap.reasons")" "$output"
	run awk -F'\t' 'NF != 3 || $3 == "" || $1 != NR - 1' "$ROOT/build/sockmap.reasons"
	assert_output ""
	local _i r _d missing=()
	while IFS=$'\t' read -r _i r _d; do
		grep -q "\`$r\`" "$ROOT/docs/sockmap.md" || missing+=("$r")
	done <"$ROOT/build/sockmap.reasons"
	assert_equal "missing in docs/sockmap.md: ${missing[*]}" "missing in docs/sockmap.md: "
}

@test "help: tcaccel sockmap --help, scripts/demo-sockmap --help, make help, doctor; unknown commands fail clearly" {
	run "$TCACCEL" sockmap --help
	assert_success
	assert_output --partial "tcaccel sockmap COMMAND"
	run "$TCACCEL" --help
	assert_output --partial "sockmap COMMAND"
	run "$ROOT/scripts/demo-sockmap" --help
	assert_success
	assert_output --partial "without and with"
	run make -s -C "$ROOT" help
	assert_output --regexp "make sockmap-load +\[CGROUP=path\]"
	run "$TCACCEL" sockmap frobnicate
	assert_failure
	assert_output --partial "unknown sockmap command"
	run "$TCACCEL" sockmap status --format xml
	assert_failure
	run "$TCACCEL" doctor
	assert_output --regexp "ok +kernel has sock_ops, sk_msg, sockhash, sk_storage"
	assert_output --regexp "ok +cgroup v2 mounted"
}

@test "load: own cgroup under the cgroup2 mount, pins, one attachment; load again changes nothing" {
	[[ -d "$CG" ]]
	local d=$TCACCEL_BPFFS/tcaccel/sockmap p
	for p in tcaccel_sockops tcaccel_sk_msg tcaccel_sock_hash tcaccel_sock_state tcaccel_sock_stats; do
		[[ -e "$d/$p" ]] || fail "pin $p missing"
	done
	run bpftool -j cgroup show "$CG"
	assert_equal "$(jq '[.[] | select(.name == "tcaccel_sockops")] | length' <<<"$output")" 1
	local id1 id2
	id1=$(sm_json | jq -r .prog_ids.sockops)
	run "$TCACCEL" sockmap load
	assert_success
	assert_output --partial "already attached to $CG"
	id2=$(sm_json | jq -r .prog_ids.sockops)
	assert_equal "$id2" "$id1"
	run bpftool -j cgroup show "$CG"
	assert_equal "$(jq '[.[] | select(.name == "tcaccel_sockops")] | length' <<<"$output")" 1
	# never the root cgroup by default
	run bpftool -j cgroup show "$CG2"
	assert_equal "$(jq -s '[.[][]? | select(.name == "tcaccel_sockops")] | length' <<<"$output")" 0
	run "$TCACCEL" sockmap status
	assert_success
	assert_output --partial "cgroup   $CG"
}

@test "unload: nothing attached, no pins, own cgroup gone; twice is fine; exec then refuses" {
	run "$TCACCEL" sockmap unload
	assert_success
	assert_output --partial "pins removed"
	run bpftool -j cgroup tree "$CG2"
	assert_equal "$(jq '[.[]?.programs[]? | select(.name == "tcaccel_sockops")] | length' <<<"$output")" 0
	[[ ! -e "$TCACCEL_BPFFS/tcaccel/sockmap" ]]
	[[ ! -d "$CG" ]]
	run "$TCACCEL" sockmap unload
	assert_success
	assert_output --partial "not loaded"
	run "$TCACCEL" sockmap status
	assert_output "sockmap is not loaded"
	run "$TCACCEL" sockmap exec -- true
	assert_failure
	assert_output --partial "does not exist"
	run "$TCACCEL" sockmap load --cgroup "no-such-cgroup-$LAB"
	assert_failure
	assert_output --partial "mkdir"
}

@test "a named cgroup as well: both attached; unloading one keeps the pins; the named one is left in place" {
	mkdir "$CG_OTHER"
	run "$TCACCEL" sockmap load --cgroup "${CG_OTHER#"$CG2"/}"
	assert_success
	assert_equal "$(sm_json | jq -c '[.cgroups[].cgroup] | sort')" "$(jq -nc --arg a "$CG" --arg b "$CG_OTHER" '[$a, $b] | sort')"
	run "$TCACCEL" sockmap unload --cgroup "$CG_OTHER"
	assert_success
	assert_output --partial "pins kept"
	assert_equal "$(sm_json | jq -r '[.cgroups[].cgroup] | join(" ")')" "$CG"
	[[ -d "$CG_OTHER" ]]
	"$TCACCEL" sockmap unload
	[[ -d "$CG_OTHER" && ! -d "$CG" ]]
}

@test "another load's attachment (its own bpffs dir and cgroup) is never touched by load or unload" {
	local other=$TCACCEL_BPFFS/tcaccel-test-other id
	mkdir "$CG_OTHER"
	bpftool prog loadall "$ROOT/build/sockmap.bpf.o" "$other" pinmaps "$other"
	bpftool cgroup attach "$CG_OTHER" sock_ops pinned "$other/tcaccel_sockops" multi
	id=$(bpftool -j prog show pinned "$other/tcaccel_sockops" | jq .id)
	"$TCACCEL" sockmap load
	"$TCACCEL" sockmap unload
	run bpftool -j cgroup show "$CG_OTHER"
	assert_equal "$(jq -c '[.[] | select(.name == "tcaccel_sockops") | .id]' <<<"$output")" "[$id]"
	bpftool cgroup detach "$CG_OTHER" sock_ops id "$id"
	rm -rf -- "$other"
}

# --- the proofs ----------------------------------------------------------------

@test "200 MB between two processes in the cgroup: sha256 equal, redirected, the pair in the sockhash while open, gone after close" {
	local data=$BATS_FILE_TMPDIR/data200 recv=$BATS_TEST_TMPDIR/recv go=$BATS_TEST_TMPDIR/go port=5101
	local size s0 s1 srv cli
	size=$(stat -c %s "$data")
	s0=$(sm_json)
	bg_cg "$BATS_TEST_TMPDIR/server.log" timeout 120 socat -u "TCP-LISTEN:$port,reuseaddr" "OPEN:$recv,creat,trunc"
	srv=$BG_PID
	wait_until 30 listening "$port"
	# The client sends everything, then keeps the connection open until $go.
	# shellcheck disable=SC2016 # $1.. belong to the inner bash
	bg_cg "$BATS_TEST_TMPDIR/client.log" timeout 120 bash -c \
		'{ cat "$1"; until [[ -e "$2" ]]; do sleep 0.05; done; } | socat -u STDIN "TCP:127.0.0.1:$3"' _ "$data" "$go" "$port"
	cli=$BG_PID
	wait_until 60 file_size_is "$recv" "$size"
	run sm_json
	assert_equal "$(jq .sockets <<<"$output")" 2
	assert_equal "$(jq -c --arg p "127.0.0.1:$port" '[.entries[] | select(.local == $p or .remote == $p)] | length' <<<"$output")" 2
	touch "$go"
	wait "$cli"
	wait "$srv"
	assert_equal "$(sha256sum <"$recv")" "$(sha256sum <"$data")"
	# every byte went through bpf_msg_redirect_hash
	s1=$(sm_json)
	(($(by "$s1" MSG_REDIRECT) - $(by "$s0" MSG_REDIRECT) >= size))
	assert_equal "$(ev "$s1" MSG_NO_PEER)" "$(ev "$s0" MSG_NO_PEER)"
	wait_until 30 sockets_are 0
}

@test "sockets outside the cgroup are untouched: every counter flat, sockhash empty, bytes intact" {
	local data=$BATS_FILE_TMPDIR/data200 recv=$BATS_TEST_TMPDIR/recv port=5102 c0
	c0=$(sm_counters)
	timeout 60 socat -u "TCP-LISTEN:$port,reuseaddr" "OPEN:$recv,creat,trunc" 3>&- &
	local srv=$!
	wait_until 30 listening "$port"
	head -c 20M "$data" | timeout 60 socat -u STDIN "TCP:127.0.0.1:$port"
	wait "$srv"
	assert_equal "$(sha256sum <"$recv")" "$(head -c 20M "$data" | sha256sum)"
	assert_equal "$(sm_counters)" "$c0"
	assert_equal "$(sm_sockets)" 0
}

@test "one end outside the cgroup (either end, splice reader too): not redirected, no stall, bytes intact" {
	local port=5103 s0 s1 out
	s0=$(sm_json)
	# echo server inside, client outside
	bg_cg "$BATS_TEST_TMPDIR/serve.log" timeout 60 "$SOCKTEST" serve --port "$port"
	wait_until 30 listening "$port"
	run timeout 60 "$SOCKTEST" client --port "$port" --bytes 8000000
	assert_success
	wait "$BG_PID"
	# client inside, echo server outside reading with splice(2)
	timeout 60 "$SOCKTEST" serve --port $((port + 1)) --recv splice >"$BATS_TEST_TMPDIR/serve2.log" 2>&1 3>&- &
	local srv=$!
	wait_until 30 listening $((port + 1))
	run in_cg timeout 60 "$SOCKTEST" client --port $((port + 1)) --bytes 8000000
	assert_success
	wait "$srv"
	out=$(cat "$BATS_TEST_TMPDIR/serve2.log")
	assert_equal "$(jq -r .echoed <<<"$out")" 8000000
	s1=$(sm_json)
	assert_equal "$(ev "$s1" SOCK_ADDED)" $(($(ev "$s0" SOCK_ADDED) + 2))
	assert_equal "$(ev "$s1" MSG_REDIRECT)" "$(ev "$s0" MSG_REDIRECT)"
	# each in-cgroup socket's first message found no peer: TCP for good
	assert_equal "$(ev "$s1" MSG_NO_PEER)" $(($(ev "$s0" MSG_NO_PEER) + 2))
	wait_until 30 sockets_are 0
}

@test "a peer in another lab netns, both in the cgroup: not redirected (netns in the key), transfer intact" {
	local port=5104 s0 s1
	s0=$(sm_json)
	nsenter --net="$(netns_path "$NS_SERVER")" -- "$TCACCEL" sockmap exec -- \
		timeout 60 "$SOCKTEST" serve --addr 0.0.0.0 --port "$port" >"$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
	local srv=$!
	wait_until 30 bash -c "nsenter --net='$(netns_path "$NS_SERVER")' -- ss -Htln 'sport = :$port' | grep -q ."
	run nsenter --net="$(netns_path "$NS_CLIENT")" -- "$TCACCEL" sockmap exec -- \
		timeout 60 "$SOCKTEST" client --host "$SERVER_IP4" --port "$port" --bytes 10000000
	assert_success
	wait "$srv"
	s1=$(sm_json)
	assert_equal "$(ev "$s1" SOCK_ADDED)" $(($(ev "$s0" SOCK_ADDED) + 2))
	assert_equal "$(ev "$s1" MSG_REDIRECT)" "$(ev "$s0" MSG_REDIRECT)"
	assert_equal "$(ev "$s1" MSG_NO_PEER)" $(($(ev "$s0" MSG_NO_PEER) + 2))
}

@test "the same 4-tuple in two netns at once: 4 sockets in the map, each connection gets its own bytes" {
	local b=$BATS_TEST_TMPDIR/bar ns s0 s1 pids=()
	s0=$(sm_json)
	for ns in "$NS_CLIENT" "$NS_SERVER"; do
		nsenter --net="$(netns_path "$ns")" -- "$TCACCEL" sockmap exec -- timeout 60 "$SOCKTEST" local \
			--port 5105 --sport 41000 --bytes 4000000 --barrier1 "$b.$ns" >"$BATS_TEST_TMPDIR/$ns.log" 2>&1 3>&- &
		pids+=($!)
	done
	wait_until 30 bash -c "[[ -e '$b.$NS_CLIENT.ready' && -e '$b.$NS_SERVER.ready' ]]"
	run sm_json
	assert_equal "$(jq .sockets <<<"$output")" 4
	assert_equal "$(jq '[.entries[] | select(.local == "127.0.0.1:41000")] | length' <<<"$output")" 2
	assert_equal "$(jq '[.entries[].netns_cookie] | unique | length' <<<"$output")" 2
	touch "$b.$NS_CLIENT.go" "$b.$NS_SERVER.go"
	wait "${pids[0]}" || fail "$(cat "$BATS_TEST_TMPDIR/$NS_CLIENT.log")"
	wait "${pids[1]}" || fail "$(cat "$BATS_TEST_TMPDIR/$NS_SERVER.log")"
	s1=$(sm_json)
	(($(ev "$s1" MSG_REDIRECT) > $(ev "$s0" MSG_REDIRECT)))
	assert_equal "$(ev "$s1" MSG_NO_PEER)" "$(ev "$s0" MSG_NO_PEER)"
}

@test "a direction that started on TCP stays on TCP: bytes in order when the peer joins the map later" {
	local b=$BATS_TEST_TMPDIR/order s0 s1
	s0=$(sm_json)
	bg_cg "$BATS_TEST_TMPDIR/order.log" timeout 60 "$SOCKTEST" order --bytes 4000000 --barrier1 "$b"
	wait_until 30 test -e "$b.ready"
	# the client's first message created the server's socket: both in the map now
	wait_until 30 sockets_are 2
	touch "$b.go"
	wait "$BG_PID" || fail "$(cat "$BATS_TEST_TMPDIR/order.log")"
	s1=$(sm_json)
	assert_equal "$(ev "$s1" MSG_NO_PEER)" $(($(ev "$s0" MSG_NO_PEER) + 1))
	(($(ev "$s1" MSG_STAYS_TCP) > $(ev "$s0" MSG_STAYS_TCP)))
	# the server's side found the client from its first message on
	(($(ev "$s1" MSG_REDIRECT) > $(ev "$s0" MSG_REDIRECT)))
}

@test "TCP Fast Open: the client (data in its SYN) stays on TCP, bytes in order" {
	local old s0 s1
	old=$(sysctl -n net.ipv4.tcp_fastopen)
	# client + server + no cookie needed: data in the very first SYN.
	# (tests/run's own netns: the host's setting is not touched.)
	sysctl -qw net.ipv4.tcp_fastopen=$((0x1 | 0x2 | 0x4 | 0x200))
	s0=$(sm_json)
	run in_cg timeout 60 "$SOCKTEST" fastopen --bytes 4000000
	sysctl -qw net.ipv4.tcp_fastopen="$old"
	assert_success
	s1=$(sm_json)
	assert_equal "$(ev "$s1" SOCK_FASTOPEN)" $(($(ev "$s0" SOCK_FASTOPEN) + 1))
	assert_equal "$(ev "$s1" SOCK_ADDED)" $(($(ev "$s0" SOCK_ADDED) + 1))
	assert_equal "$(ev "$s1" MSG_REDIRECT)" "$(ev "$s0" MSG_REDIRECT)"
}

@test "IPv4, IPv6, v4-mapped both ways: redirected, bytes intact" {
	local fam s0 s1
	s0=$(sm_json)
	for fam in 4 6 mapped-server mapped-client; do
		run in_cg timeout 60 "$SOCKTEST" local --family "$fam" --bytes 4000000
		assert_success
	done
	# 4 families x 2 directions x 4 MB; a family whose sockets missed each
	# other would have counted MSG_NO_PEER instead
	s1=$(sm_json)
	(($(by "$s1" MSG_REDIRECT) - $(by "$s0" MSG_REDIRECT) >= 32000000))
	assert_equal "$(ev "$s1" MSG_NO_PEER)" "$(ev "$s0" MSG_NO_PEER)"
	wait_until 30 sockets_are 0
}

@test "large writes, non-blocking partial sends, sendfile, splice into the socket: redirected, bytes intact" {
	local how s0 s1
	s0=$(sm_json)
	for how in sendall nonblock sendfile splice; do
		run in_cg timeout 60 "$SOCKTEST" local --send "$how" --bytes 24000000
		assert_success
	done
	s1=$(sm_json)
	(($(by "$s1" MSG_REDIRECT) - $(by "$s0" MSG_REDIRECT) >= 4 * 48000000))
	assert_equal "$(ev "$s1" MSG_NO_PEER)" "$(ev "$s0" MSG_NO_PEER)"
	wait_until 30 sockets_are 0
}

@test "half-close and RST: every byte before the FIN, the reset seen, no stall, the map empties" {
	local s0
	s0=$(sm_json)
	run in_cg timeout 60 "$SOCKTEST" local --close halfclose --bytes 4000000
	assert_success
	assert_output --partial '"halfclose": true'
	run in_cg timeout 60 "$SOCKTEST" local --close rst --bytes 4000000
	assert_success
	assert_output --partial '"rst": "reset"'
	# the reset socket's send found its peer gone: passed to TCP, which failed it
	(($(sm_events MSG_PEER_GONE) > $(ev "$s0" MSG_PEER_GONE)))
	wait_until 30 sockets_are 0
}

@test "1000 concurrent connections: 2000 sockets in the map while open, none after, every message intact" {
	local b=$BATS_TEST_TMPDIR/many s0 s1
	s0=$(sm_json)
	bg_cg "$BATS_TEST_TMPDIR/many.log" timeout 120 "$SOCKTEST" many 1000 --barrier1 "$b"
	wait_until 90 test -e "$b.ready"
	assert_equal "$(sm_sockets)" 2000
	touch "$b.go"
	wait "$BG_PID" || fail "$(cat "$BATS_TEST_TMPDIR/many.log")"
	s1=$(sm_json)
	assert_equal "$(ev "$s1" SOCK_ADDED)" $(($(ev "$s0" SOCK_ADDED) + 2000))
	(($(ev "$s1" MSG_REDIRECT) - $(ev "$s0" MSG_REDIRECT) >= 2000))
	assert_equal "$(ev "$s1" MSG_NO_PEER)" "$(ev "$s0" MSG_NO_PEER)"
	wait_until 30 sockets_are 0
}

@test "unload with connections open: they keep working; nothing attached, no pins; programs freed after close" {
	local b=$BATS_TEST_TMPDIR/hold ids
	ids=$(sm_json | jq -r '.prog_ids | "\(.sockops) \(.sk_msg)"')
	bg_cg "$BATS_TEST_TMPDIR/hold.log" timeout 60 "$SOCKTEST" local --bytes 4000000 --barrier2 "$b"
	wait_until 30 test -e "$b.ready"
	run "$TCACCEL" sockmap unload
	assert_success
	# the cgroup still holds the process: left in place, said so
	assert_output --regexp "still holds [0-9]+ process"
	run bpftool -j cgroup tree "$CG2"
	assert_equal "$(jq '[.[]?.programs[]? | select(.name == "tcaccel_sockops")] | length' <<<"$output")" 0
	[[ ! -e "$TCACCEL_BPFFS/tcaccel/sockmap" ]]
	# second exchange on the same, still redirected, connection
	touch "$b.go"
	wait "$BG_PID" || fail "$(cat "$BATS_TEST_TMPDIR/hold.log")"
	run cat "$BATS_TEST_TMPDIR/hold.log"
	assert_output --partial '"second_exchange": true'
	# the last socket closed: the kernel frees the programs
	local id
	for id in $ids; do
		wait_until 20 bash -c "! bpftool prog show id $id >/dev/null 2>&1" || fail "prog $id still loaded"
	done
}
