#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The sysadmin's persistence: make install / uninstall (PREFIX, DESTDIR),
# the systemd template unit (systemd-analyze verify, then its Exec* lines
# run as written against a lab interface: systemd is not PID 1 here), the
# `tcaccel service` it calls, bash completion and the generated man page.
# tests/run: serial (make install into /usr/local)

load helpers

setup_file() {
	lab_up router
	# A real install (no DESTDIR) into a private prefix: the unit's paths exist
	# and the installed CLI can run.  A short one: the man page names the
	# object's path, and roff cannot break a path longer than a line.
	INST=$(mktemp -d /tmp/tcinst.XXXXXX)
	export INST
	make -s -C "$ROOT" install PREFIX="$INST/usr" SYSCONFDIR="$INST/etc" >/dev/null
	export UNIT=$INST/usr/lib/systemd/system/tcaccel@.service
}

teardown_file() {
	lab_down
	[[ "${INST:-}" == /tmp/tcinst.* ]] && rm -rf -- "$INST"
	return 0
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" up
	rm -f "$INST/etc/tcaccel/"*.conf
	ip link del tcai0 2>/dev/null || true
	"$TCACCEL" unload --all >/dev/null 2>&1 || true
}

# unit_cmd KEY INSTANCE: the unit's KEY= command line with %i filled in.
unit_cmd() {
	local line
	line=$(sed -n "s/^$1=//p" "$UNIT")
	[[ -n "$line" ]] || { echo "no $1= in $UNIT" >&2; return 1; }
	printf '%s\n' "${line//%i/$2}"
}

# run_unit KEY INSTANCE: run that command as systemd would: split on blanks
# (the unit has no quoting), no shell, no PATH lookup (absolute path).
run_unit() {
	local -a argv
	read -ra argv <<<"$(unit_cmd "$1" "$2")"
	[[ "${argv[0]}" == /* ]] || { echo "$1 is not an absolute path: ${argv[0]}" >&2; return 1; }
	"${argv[@]}"
}

@test "make install DESTDIR=...: the expected tree, modes and paths; uninstall leaves no file" {
	local d=$BATS_TEST_TMPDIR/dest
	run make -s -C "$ROOT" install DESTDIR="$d"
	assert_success
	local expected runbooks libs docs f
	runbooks=$(cd "$ROOT/docs/runbooks" && printf 'usr/local/share/doc/tcaccel/runbooks/%s\n' *.md)
	libs=$(cd "$ROOT/scripts/lib" && printf 'usr/local/lib/tcaccel/lib/%s\n' *.sh jq/*.jq)
	docs=$(cd "$ROOT/docs" && find . -maxdepth 1 -name '*.md' -printf 'usr/local/share/doc/tcaccel/%P\n')
	expected=$(sed '/^$/d' <<EOF | sort
etc/tcaccel/
usr/local/lib/systemd/system/tcaccel@.service
usr/local/lib/systemd/system/tcaccel-watch@.service
$libs
usr/local/lib/tcaccel/tcaccel
usr/local/lib/tcaccel/abi.json
usr/local/lib/tcaccel/abi.sh
usr/local/lib/tcaccel/sockmap.bpf.o
usr/local/lib/tcaccel/sockmap.reasons
usr/local/lib/tcaccel/tcaccel.bpf.o
usr/local/lib/tcaccel/tcaccel-noct.bpf.o
usr/local/lib/tcaccel/tcaccel.reasons
usr/local/sbin/tcaccel
usr/local/share/bash-completion/completions/tcaccel
usr/local/share/doc/tcaccel/README.md
usr/local/share/doc/tcaccel/tcaccel.conf.example
usr/local/share/man/man8/tcaccel.8
$runbooks
$docs
EOF
	)
	# Files and links, plus empty directories (etc/tcaccel/).
	assert_equal "$(cd "$d" && { find . \( -type f -o -type l \) -printf '%P\n'; find . -type d -empty -printf '%P/\n'; } | sort)" "$expected"
	# Every build product the CLI names ($TCACCEL_ROOT/build/NAME) is installed.
	while read -r f; do
		[[ -f "$d/usr/local/lib/tcaccel/${f##*/}" ]] || fail "${f##*/} is used by the CLI but not installed (INSTALL_LIBFILES)"
	done < <(grep -ohE 'TCACCEL_ROOT\}?/build/[A-Za-z0-9_.-]+' "$ROOT/scripts/tcaccel" "$ROOT"/scripts/lib/*.sh | sort -u)
	assert_equal "$(readlink "$d/usr/local/sbin/tcaccel")" "../lib/tcaccel/tcaccel"
	assert_equal "$(stat -c %a "$d/usr/local/lib/tcaccel/tcaccel")" 755
	assert_equal "$(find "$d" -type f ! -perm 644 -printf '%P\n')" "usr/local/lib/tcaccel/tcaccel"
	# Installed paths, not build ones or this checkout's.
	run grep -n 'ExecStart=' "$d/usr/local/lib/systemd/system/tcaccel@.service"
	assert_output --partial "ExecStart=/usr/local/sbin/tcaccel service start %i --conf /etc/tcaccel/%i.conf"
	run grep -rnE 'TCACCEL_ROOT\}?/build|@[A-Z]+@' "$d"
	assert_output ""
	run grep -rlIF "$ROOT" "$d"
	assert_output ""
	# shellcheck disable=SC2016 # a literal line of the script
	grep -q '^: "${TCACCEL_OBJ:=/usr/local/lib/tcaccel/tcaccel.bpf.o}"$' "$d/usr/local/lib/tcaccel/lib/common.sh"

	# Your own config stays; everything tcaccel put there goes.
	echo 'MODE=redirect' >"$d/etc/tcaccel/eth0.conf"
	run make -s -C "$ROOT" uninstall DESTDIR="$d"
	assert_success
	assert_output --partial "kept $d/etc/tcaccel: eth0.conf"
	assert_equal "$(cd "$d" && find . \( -type f -o -type l \) -printf '%P\n')" "etc/tcaccel/eth0.conf"
	rm "$d/etc/tcaccel/eth0.conf"
	run make -s -C "$ROOT" uninstall DESTDIR="$d"
	assert_success
	assert_equal "$(find "$d" \( -type f -o -type l \) -printf '%P\n')" ""
	assert_equal "$(find "$d" -name '*tcaccel*' -printf '%P\n')" ""
}

@test "PREFIX and SYSCONFDIR land in the unit, the CLI and the man page" {
	grep -qxF "ExecStart=$INST/usr/sbin/tcaccel service start %i --conf $INST/etc/tcaccel/%i.conf" "$UNIT"
	run "$INST/usr/sbin/tcaccel" load --help
	assert_success
	assert_output --partial "Attaches $INST/usr/lib/tcaccel/tcaccel.bpf.o"
	run "$INST/usr/sbin/tcaccel" service --help
	assert_output --partial "$INST/etc/tcaccel/INSTANCE.conf"
	run man -l "$INST/usr/share/man/man8/tcaccel.8"
	assert_output --partial "$INST/usr/lib/tcaccel/tcaccel.bpf.o"
	assert_output --partial "$INST/usr/lib/tcaccel/sockmap.bpf.o"
}

@test "systemd-analyze verify accepts the installed unit (and does reject a broken one)" {
	run env MANPATH="$INST/usr/share/man" systemd-analyze verify "$UNIT"
	assert_success
	assert_output ""
	# The check is not vacuous: a unit whose command is missing fails it.
	local bad=$BATS_TEST_TMPDIR/tcaccel@.service
	sed "s|$INST/usr/sbin/tcaccel|$INST/usr/sbin/missing|" "$UNIT" >"$bad"
	run env MANPATH="$INST/usr/share/man" systemd-analyze verify "$bad"
	assert_failure
	assert_output --partial "is not executable"
	# Start waits for the interface, reload and stop exist, no private mounts.
	grep -qx 'Type=oneshot' "$UNIT"
	grep -qx 'RemainAfterExit=yes' "$UNIT"
	grep -qx 'After=network.target' "$UNIT"
	run grep -E '^(ProtectSystem|PrivateMounts|PrivateNetwork|PrivateTmp)=' "$UNIT"
	assert_failure
}

@test "the unit's ExecStart, ExecReload (twice) and ExecStop, run as written, on a lab interface" {
	# Instance "client" = the router's to-client in the lab's router netns.
	printf '# lab\nIFACE=%s\nNETNS="%s"\nMODE=redirect\nFORCE=0\n' "$RT_IF_CLIENT" "$NS_ROUTER" \
		>"$INST/etc/tcaccel/client.conf"
	run run_unit ExecStart client
	assert_success
	assert_output --partial "loaded on $RT_IF_CLIENT (netns $NS_ROUTER)"
	local id1 r1
	id1=$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")
	[[ -n "$id1" ]]
	flood "$NS_CLIENT" "$SERVER_IP4" 20
	r1=$(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT)
	((r1 >= 20))

	# Reload twice: one filter, a new program, the counters kept.
	run_unit ExecReload client
	run run_unit ExecReload client
	assert_success
	assert_equal "$(filters "$NS_ROUTER" "$RT_IF_CLIENT")" 1
	[[ "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" != "$id1" ]]
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) >= r1))
	flood "$NS_CLIENT" "$SERVER_IP4" 10
	(($(counter "$NS_ROUTER" "$RT_IF_CLIENT" REDIRECT) >= r1 + 10))

	run run_unit ExecStop client
	assert_success
	assert_output --partial "unloaded from $RT_IF_CLIENT"
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" ""
	run has_clsact "$NS_ROUTER" "$RT_IF_CLIENT"
	assert_failure
	[[ ! -e "$(pin_root "$NS_ROUTER")" ]]
	# Stopping a stopped unit is fine.
	run run_unit ExecStop client
	assert_success
}

@test "service start waits for the interface to come up; WAIT bounds it; bad config lines are named" {
	printf 'IFACE=%s\nNETNS=%s\nWAIT=30\n' "$RT_IF_CLIENT" "$NS_ROUTER" >"$INST/etc/tcaccel/client.conf"
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" down
	local log=$BATS_TEST_TMPDIR/start.log
	run_unit ExecStart client >"$log" 2>&1 &
	local pid=$!
	wait_until 30 grep -q "waiting up to 30s for $RT_IF_CLIENT" "$log"
	# Still down: nothing attached yet.
	assert_equal "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" ""
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" up
	wait "$pid"
	grep -q "loaded on $RT_IF_CLIENT" "$log"
	[[ -n "$(our_prog "$NS_ROUTER" "$RT_IF_CLIENT")" ]]

	run_unit ExecStop client
	in_ns "$NS_ROUTER" ip link set "$RT_IF_CLIENT" down
	sed -i 's/^WAIT=.*/WAIT=1/' "$INST/etc/tcaccel/client.conf"
	run run_unit ExecStart client
	assert_failure
	assert_output --partial "$RT_IF_CLIENT is not up in netns $NS_ROUTER after 1s"

	printf 'IFACE=x\nMODUS=redirect\n' >"$INST/etc/tcaccel/client.conf"
	run run_unit ExecStart client
	assert_failure
	assert_output --partial "client.conf:2: unknown key 'MODUS'"
	printf 'FORCE=perhaps\n' >"$INST/etc/tcaccel/client.conf"
	run run_unit ExecStart client
	assert_failure
	assert_output --partial "FORCE='perhaps': 0 or 1"
}

@test "without a config file the instance name is the interface (host netns)" {
	# The suite's own namespace stands in for the host: a veth pair of ours.
	ip link add tcai0 type veth peer name tcai1
	ip link set tcai0 up
	run run_unit ExecStart tcai0
	assert_success
	assert_output --partial "loaded on tcai0 (netns (host))"
	[[ -n "$(our_prog "" tcai0)" ]]
	run run_unit ExecStop tcai0
	assert_success
	assert_equal "$(our_prog "" tcai0)" ""
	[[ ! -e "$(pin_root "")" ]]
}

@test "bash completion: commands, options, values, interfaces and netns names from the CLI" {
	comp() {
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_tcaccel
		printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
	}
	PATH=$INST/usr/sbin:$PATH
	# shellcheck source=scripts/completion/tcaccel.bash
	source "$INST/usr/share/bash-completion/completions/tcaccel"
	# Fill the per-shell cache here, as the first Tab in a shell does (comp
	# runs in subshells, which would each start with an empty one).
	_tcaccel_table >/dev/null
	assert_equal "$(complete -p tcaccel)" "complete -F _tcaccel tcaccel"
	# Expected values read from the help texts independently of the
	# completion's own use of the table (and never empty).
	local cmds opts modes
	cmds=$("$TCACCEL" --help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' ' | sort | paste -sd' ')
	opts=$("$TCACCEL" load --help | head -n1 | grep -oE -- '--[a-z-]+' | cat - <(echo --help) | sort -u | paste -sd' ')
	modes=$("$TCACCEL" load --help | sed -n '/^Options:/,$p' | sed -n '/--mode MODE/,/--firewall/p' | awk 'NR > 1 && $1 != "-w," { print $1 }' | sort | paste -sd' ')
	[[ "$cmds" == *load*service*status* && "$opts" == *--netns* && "$modes" == *auto* ]]
	assert_equal "$(comp tcaccel '')" "$cmds"
	assert_equal "$(comp tcaccel lo)" "load"
	assert_equal "$(comp tcaccel load --)" "$opts"
	assert_equal "$(comp tcaccel status --format '')" "json prom table"
	assert_equal "$(comp tcaccel load --mode '')" "$modes"
	assert_equal "$(comp tcaccel service '')" "reload start stop watch"
	assert_equal "$(comp tcaccel load --firewall '')" "bypass refuse respect"
	run comp tcaccel --netns ''
	assert_output --partial "$NS_ROUTER"
	assert_equal "$(comp tcaccel load --netns "$NS_ROUTER" '')" "lo $RT_IF_CLIENT $RT_IF_SERVER"
	assert_equal "$(comp tcaccel status -F json --netns "$NS_ROUTER" to-c)" "$RT_IF_CLIENT"
	assert_equal "$(comp tcaccel load --netns "$NS_ROUTER" "$RT_IF_CLIENT" '')" ""
}

@test "tcaccel(8): generated from --help, README and the reasons, clean roff, nothing written twice" {
	local page=$INST/usr/share/man/man8/tcaccel.8 text c o
	run groff -man -Tutf8 -ww -z "$page"
	assert_success
	assert_output ""
	text=$(MANWIDTH=200 man -l "$page" 2>&1)
	# Every command and long option of --help, every reason.
	for c in $("$TCACCEL" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'); do
		grep -qE "^ +$c( |$)" <<<"$text" || fail "command $c missing from the man page"
	done
	for o in $("$TCACCEL" --help | grep -oE -- '--[a-z-]+' | sort -u); do
		grep -qF -- "$o" <<<"$text" || fail "option $o missing from the man page"
	done
	while IFS=$'\t' read -r _ c _; do
		grep -qE "^ +$c( |$)" <<<"$text" || fail "reason $c missing from the man page"
	done <"$ROOT/build/tcaccel.reasons"
	grep -qF "$(sed -n '1s/^# *tcaccel *[-—]* *//p' "$ROOT/README.md")" <<<"$text"
	# A command's own help text, in the page's source (rendering may wrap it).
	tr -s ' \n' ' ' <"$page" | grep -qF "so loading twice replaces"
	# The source is the CLI: no hand-written page in the tree.
	run git -C "$ROOT" ls-files '*.8' '*.[0-9].md' '*.ronn'
	assert_output ""
	run "$ROOT/scripts/mkman" --help
	assert_success
	assert_output --partial "Usage: scripts/mkman"
	run make -s -C "$ROOT" man OUTPUT="$BATS_TEST_TMPDIR/b"
	assert_success
	[[ -s "$BATS_TEST_TMPDIR/b/tcaccel.8" ]]
}
