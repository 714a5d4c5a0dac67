#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The Debian package: `make deb` (scripts/mkdeb, dpkg-buildpackage with
# debian/), lintian, what the .deb holds, what it depends on (and what apt
# would pull onto a minimal Debian 12), and an install with apt into a
# throw-away root - overlays on /usr, /etc and /var in a private mount
# namespace, so this machine's own files and dpkg database stay as they are
# - where the installed CLI runs against a lab netns; then a purge that must
# leave nothing behind.
# tests/run: serial (apt and dpkg)

load helpers

setup_file() {
	lab_up router
	export VERSION ARCH DEB
	VERSION=$("$ROOT/scripts/version")
	ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
	DEB=$ROOT/build/tcaccel_${VERSION}_$ARCH.deb
	make -s -C "$ROOT" deb >"$BATS_FILE_TMPDIR/make-deb.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make-deb.log" >&2; return 1; }
}

teardown_file() {
	lab_down
}

teardown() {
	"$TCACCEL" unload --all --netns "$NS_ROUTER" >/dev/null 2>&1 || true
}

# Depends: of the .deb, one package name a line.
deb_depends() {
	dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/^ *//; s/[ (].*//' | sed '/^$/d'
}

@test "make deb: build/tcaccel_<version>_<arch>.deb by dpkg-buildpackage; lintian: no error, no warning" {
	[[ -f "$DEB" ]]
	assert_equal "$(dpkg-deb -f "$DEB" Package)" tcaccel
	assert_equal "$(dpkg-deb -f "$DEB" Version)" "$VERSION"
	assert_equal "$(dpkg-deb -f "$DEB" Architecture)" "$ARCH"
	[[ "$VERSION" == "$(cat "$ROOT/VERSION")"* ]]
	grep -q 'dpkg-buildpackage: info: binary-only upload' "$ROOT/build/deb/build.log"
	# lintian ran on this very .deb (mkdeb keeps its output with the stamp).
	local lint=$ROOT/build/deb/lintian.log
	[[ -f "$lint" ]] || lintian --display-info "$DEB" >"$lint" 2>&1
	run grep -E '^[EWI]: ' "$lint"
	assert_output ""
	# The one override, for the BPF objects (debian/tcaccel.lintian-overrides).
	run bash -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./usr/share/lintian/overrides/tcaccel | grep -v '^#'"
	assert_output "tcaccel: binary-from-other-architecture [usr/lib/tcaccel/*.bpf.o]"
	# Built once: the same tree gives the same .deb back.
	local mtime
	mtime=$(stat -c %Y "$DEB")
	run make -s -C "$ROOT" deb
	assert_success
	assert_output --partial "is up to date"
	assert_equal "$(stat -c %Y "$DEB")" "$mtime"
}

@test "dpkg-deb --contents: make install's tree with PREFIX=/usr, Debian's paths, no /usr/local" {
	local d=$BATS_TEST_TMPDIR/inst want have
	make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
	want=$(cd "$d" && { find . \( -type f -o -type l \) -printf '%P\n'; find . -type d -empty -printf '%P/\n'; } | sort)
	# dh_compress gzips the man page and the larger docs; dh_installdocs,
	# dh_installchangelogs and dh_lintian add Debian's own files.
	have=$(dpkg-deb --contents "$DEB" | awk '{ print $6 }' | sed 's|^\./||; s|\.gz$||' |
		grep -vxE 'usr/share/doc/tcaccel/(changelog|copyright)|usr/share/lintian/overrides/tcaccel' |
		while read -r p; do [[ -z "$p" || "$p" == */ ]] || echo "$p"; done | sort)
	have=$(printf '%s\netc/tcaccel/\n' "$have" | sort)
	assert_equal "$have" "$want"
	run dpkg-deb --contents "$DEB"
	assert_output --partial "./usr/sbin/tcaccel -> ../lib/tcaccel/tcaccel"
	assert_output --partial "./lib/systemd/system/tcaccel@.service"
	assert_output --partial "./usr/share/man/man8/tcaccel.8.gz"
	assert_output --partial "./usr/share/bash-completion/completions/tcaccel"
	assert_output --partial "./usr/lib/tcaccel/tcaccel.bpf.o"
	refute_output --partial "usr/local"
	# No maintainer scripts: nothing runs at install but dpkg's own triggers.
	assert_equal "$(dpkg-deb -I "$DEB" | awk '$NF ~ /^(pre|post)(inst|rm)$/' | wc -l)" 0
}

@test "Depends: every command the CLI runs is in a dependency or Essential; apt resolves them on a minimal Debian" {
	local c path pkg deps
	deps=$(deb_depends)
	for c in tc ip bpftool jq nsenter flock nft sysctl mount; do
		# (the CLI does run it)
		grep -qw -- "$c" "$ROOT/scripts/tcaccel" "$ROOT"/scripts/lib/*.sh ||
			fail "$c is not used by the CLI: drop it from this list"
		path=$(command -v "$c")
		pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}")
		pkg=${pkg%%:*}
		grep -qxF "$pkg" <<<"$deps" || [[ "$(dpkg-query -W -f='${Essential}' "$pkg")" == yes ]] ||
			fail "$c comes from $pkg, which the .deb does not depend on"
	done
	# A machine with only the minbase packages: apt must find everything.
	[[ -n "$(find /var/lib/apt/lists -name '*Packages*' -print -quit)" ]] || skip "no apt package lists (apt-get update)"
	local base=$BATS_TEST_TMPDIR/dpkg-status
	/usr/bin/python3 "$ROOT/tests/lib/aptsim.py" minbase "$base"
	run apt-get -s -o Dir::State::status="$base" install "$DEB"
	assert_success
	assert_line --partial "Inst tcaccel ($VERSION "
	local inst
	inst=$(sed -n 's/^Inst \([^ ]*\) .*/\1/p' <<<"$output")
	for pkg in $deps; do
		grep -qxF "$pkg" <<<"$inst" || grep -q "^Package: $pkg\$" "$base" ||
			fail "apt would not install $pkg"
	done
}

@test "apt-get install ./tcaccel.deb into a throw-away root: the installed CLI loads a lab netns; purge leaves no file" {
	local ovl=$BATS_TEST_TMPDIR/ovl log=$BATS_TEST_TMPDIR/install.log
	mkdir -p "$ovl"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run unshare --mount --propagation private -- bash -c '
		set -Eeuo pipefail
		ovl=$1 deb=$2 ns=$3 client=$4 dst=$5
		mount -t tmpfs deb-root "$ovl"
		for d in /usr /etc /var; do
			n=${d//\//_}
			mkdir -p "$ovl/$n/up" "$ovl/$n/work"
			mount -t overlay overlay -o "lowerdir=$d,upperdir=$ovl/$n/up,workdir=$ovl/$n/work" "$d"
		done
		rm -f /var/lib/man-db/auto-update # no mandb run in the triggers
		export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
		apt-get install -y -q "$deb" >/dev/null
		echo "installed $(dpkg-query -W -f="\${Version}" tcaccel)"
		dpkg -L tcaccel >"$ovl/files"
		cd / # nothing from the checkout
		tcaccel load all --netns "$ns" 2>&1
		f0=$(nsenter --net="/run/netns/$ns" nstat -asz IpForwDatagrams | awk "/^IpForw/ { print \$2 }")
		nsenter --net="/run/netns/$client" ping -q -c 10 -i 0.01 -W 2 "$dst" >/dev/null
		f1=$(nsenter --net="/run/netns/$ns" nstat -asz IpForwDatagrams | awk "/^IpForw/ { print \$2 }")
		echo "fast path: $(tcaccel status --netns "$ns" --format json |
			jq "[.[].counters | .REDIRECT.packets, .PEER.packets, .NEIGH.packets] | add"), kernel: $((f1 - f0))"
		# Without the build tools (this root only): the package is all it needs.
		rm -f /usr/bin/clang /usr/bin/clang-[0-9]* /usr/bin/llc
		if tcaccel doctor >"$ovl/doctor" 2>&1; then echo "doctor: $(tail -n1 "$ovl/doctor")"; else cat "$ovl/doctor"; fi
		echo "help: $(tcaccel load --help | grep -o "Attaches [^ ]*")"
		echo "man: $(man -w tcaccel)"
		systemd-analyze verify /lib/systemd/system/tcaccel@.service 2>&1 | sed "s/^/unit: /"
		echo "unit: $(grep ^ExecStart= /lib/systemd/system/tcaccel@.service)"
		tcaccel unload --all --netns "$ns" 2>&1
		dpkg --purge tcaccel >/dev/null
		if dpkg-query -W tcaccel >/dev/null 2>&1; then echo "dpkg still knows tcaccel"; else echo purged; fi
		while read -r f; do
			[[ "$f" == /. || ! -e "$f" || -d "$f" && "$f" != */tcaccel* ]] || echo "left: $f"
		done <"$ovl/files"
		find "$ovl/_usr/up" "$ovl/_etc/up" \( -type f -o -type l \) -printf "left: %p\n"
	' deb-root "$ovl" "$DEB" "$NS_ROUTER" "$NS_CLIENT" "$SERVER_IP4"
	echo "$output" >"$log"
	assert_success
	assert_line "installed $VERSION"
	assert_line --partial "loaded on $RT_IF_CLIENT (netns $NS_ROUTER)"
	assert_line --partial "loaded on $RT_IF_SERVER (netns $NS_ROUTER)"
	assert_line "doctor: all good"
	assert_line "help: Attaches /usr/lib/tcaccel/tcaccel.bpf.o"
	assert_line "man: /usr/share/man/man8/tcaccel.8.gz"
	assert_line "unit: ExecStart=/usr/sbin/tcaccel service start %i --conf /etc/tcaccel/%i.conf"
	refute_line --partial "unit: /"
	assert_line --partial "unloaded from $RT_IF_CLIENT"
	assert_line "fast path: 20, kernel: 0"
	assert_line purged
	refute_line --partial "left: "
	# This machine's own dpkg database never saw it.
	run dpkg-query -W tcaccel
	assert_failure
}
