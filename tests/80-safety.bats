#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Privilege and safety: the pinned maps are root's alone, tcaccel refuses to
# pin where another user could swap its maps, every command refuses to run
# unprivileged and says why, and no command touches an interface outside
# the network namespace it was given - not even one with the same name.
# tests/run: serial (trace_pipe)

load helpers
load lib/reliability

setup_file() {
	lab_up router
	"$TCACCEL" load "$RT_IF_CLIENT" --netns "$NS_ROUTER" 2>/dev/null
	# A namespace whose devices carry the router's names.
	export NS_DECOY=${LAB}-decoy
	ip netns add "$NS_DECOY"
	lab_lib veth "$NS_DECOY" "$RT_IF_CLIENT" 02:ca:00:0d:00:01 "$NS_DECOY" "$RT_IF_SERVER" 02:ca:00:0d:00:02
}

teardown_file() {
	lab_down
}

teardown() {
	if mountpoint -q "$BATS_TEST_TMPDIR/bpffs" 2>/dev/null; then
		TCACCEL_BPFFS=$BATS_TEST_TMPDIR/bpffs "$TCACCEL" unload "$RT_IF_SERVER" --netns "$NS_ROUTER" >/dev/null 2>&1 || true
		umount "$BATS_TEST_TMPDIR/bpffs"
	fi
	"$TCACCEL" unload --all --netns "$NS_DECOY" >/dev/null 2>&1 || true
	"$TCACCEL" unload "$RT_IF_SERVER" --netns "$NS_ROUTER" >/dev/null 2>&1 || true
}

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "pins and maps are root-only: mode 600 in a 700 directory, unreadable by other users" {
	local dir d
	dir=$(pin_dir "$NS_ROUTER")
	assert_equal "$(stat -c '%U %a' "$dir/tcaccel_cfg" "$dir/tcaccel_stats" | paste -sd' ')" "root 600 root 600"
	assert_equal "$(stat -c '%U %a' "$dir")" "root 700"
	for d in "$TCACCEL_PIN_BASE" "$TCACCEL_PIN_BASE/ns" "$(pin_root "$NS_ROUTER")"; do
		assert_equal "$d: $(stat -c '%U %a' "$d")" "$d: root 755"
	done
	run nobody cat "$dir/tcaccel_cfg"
	assert_failure
	assert_output --partial "Permission denied"
	run nobody ls "$dir"
	assert_failure
	run nobody bpftool map dump pinned "$dir/tcaccel_stats"
	assert_failure
}

@test "load refuses pin directories another user could control: foreign owner, writable by others, symlink" {
	local b=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$b"
	mount -t bpf bpf "$b" # a bare bpffs: mode 1777, anyone may create in it
	mkdir "$b/tcaccel"
	chown 65534 "$b/tcaccel"
	run env TCACCEL_BPFFS="$b" "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "$b/tcaccel belongs to uid 65534"
	chown 0 "$b/tcaccel"
	chmod 777 "$b/tcaccel"
	run env TCACCEL_BPFFS="$b" "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "with mode 777: another user could swap"
	rmdir "$b/tcaccel"
	ln -s /tmp "$b/tcaccel"
	run env TCACCEL_BPFFS="$b" "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_failure
	assert_output --partial "$b/tcaccel is a symbolic link"
	assert_equal "filters: $(filters "$NS_ROUTER" "$RT_IF_SERVER")" "filters: 0"
	# cleaned up, it works, and what it creates is root's
	rm "$b/tcaccel"
	run env TCACCEL_BPFFS="$b" "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_success
	assert_equal "$(stat -c '%U %a' "$b/tcaccel" "$b/tcaccel/ns/$NS_ROUTER" | paste -sd' ')" "root 755 root 755"
}

@test "a bpffs tcaccel mounts itself is mode 700, not world-writable" {
	local b=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$b"
	run env TCACCEL_BPFFS="$b" "$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER"
	assert_success
	assert_equal "$(stat -f -c %T "$b")" bpf_fs
	# (the sticky bit of a bare bpffs stays; nobody but root may write)
	assert_regex "$(stat -c %a "$b")" '^1?700$'
}

@test "every command refuses to run unprivileged, says why, and changes nothing" {
	local id c
	id=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	for c in "load $RT_IF_SERVER --netns $NS_ROUTER" "unload $RT_IF_CLIENT --netns $NS_ROUTER" \
		"unload --all --netns $NS_ROUTER" "status" "status --netns $NS_ROUTER" \
		"trace $RT_IF_CLIENT --netns $NS_ROUTER --duration 1" "deps"; do
		# shellcheck disable=SC2086 # the command's words
		run nobody "$TCACCEL" $c
		assert_failure
		assert_output --partial "tcaccel: error: must run as root (try: sudo tcaccel ${c%% *})"
	done
	run nobody "$TCACCEL" doctor
	assert_failure
	assert_output --partial "FAIL  running as root"
	run nobody "$ROOT/tests/fuzz" -n 10
	assert_failure
	assert_output --partial "needs root"
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT") $(filters "$NS_ROUTER" "$RT_IF_SERVER")" "$id 0"
	assert_equal "$("$TCACCEL" status "$RT_IF_CLIENT" --netns "$NS_ROUTER" -F json | jq '.[0].debug')" false
}

# tc_state NS: every qdisc and every tc BPF attachment (with its program)
# on every device of NS.
tc_state() {
	in_ns "$1" tc -j qdisc show
	in_ns "$1" bpftool -j net show
}

# world_but NS: tc state of every namespace except NS ("" = this one), and
# tcaccel's config maps there.
world_but() {
	local ns
	for ns in "" "$NS_CLIENT" "$NS_ROUTER" "$NS_SERVER" "$NS_DECOY"; do
		[[ "$ns" == "$1" ]] && continue
		echo "== ${ns:-(runner)}"
		tc_state "$ns"
		if [[ -e "$(pin_dir "$ns")/tcaccel_cfg" ]]; then
			bpftool -j map dump pinned "$(pin_dir "$ns")/tcaccel_cfg"
		fi
	done
}

@test "no command touches an interface outside the netns it was given, even one with the same name" {
	local before
	# the router: load, status, trace, unload leave every other namespace alone
	before=$(world_but "$NS_ROUTER")
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null
	"$TCACCEL" status --netns "$NS_ROUTER" >/dev/null
	"$TCACCEL" trace "$RT_IF_SERVER" --netns "$NS_ROUTER" --duration 1 >/dev/null 2>&1
	"$TCACCEL" unload "$RT_IF_SERVER" --netns "$NS_ROUTER" 2>/dev/null
	assert_equal "$(world_but "$NS_ROUTER")" "$before"

	# the decoy: same device names as the router's; the router is not touched
	before=$(world_but "$NS_DECOY")
	"$TCACCEL" load "$RT_IF_SERVER" --netns "$NS_DECOY" 2>/dev/null
	assert_equal "$(filters "$NS_DECOY" "$RT_IF_SERVER")" 1
	"$TCACCEL" unload --all --netns "$NS_DECOY" 2>/dev/null
	assert_equal "$(world_but "$NS_DECOY")" "$before"

	# no --netns: this namespace only (it has no such device: a clear error)
	before=$(world_but "")
	run "$TCACCEL" load "$RT_IF_CLIENT"
	assert_failure
	assert_output --partial "device '$RT_IF_CLIENT' not found in netns (host)"
	run "$TCACCEL" unload --all
	assert_success
	assert_equal "$(world_but "")" "$before"
}
