#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The static layer: build flags, the object's contents, lint, help texts,
# and the README/CI contract.  Nothing here needs a lab.

load helpers

@test "make lint: shellcheck is clean on every script" {
	run make -s -C "$ROOT" lint
	assert_success
	assert_output --regexp "lint: [0-9]+ scripts, shellcheck clean"
}

@test "BPF C builds out of tree with -Wall -Wextra -Werror" {
	local out=$BATS_TEST_TMPDIR/build
	run make -s -C "$ROOT" OUTPUT="$out"
	assert_success
	[[ -s "$out/tcaccel.bpf.o" && -s "$out/tcaccel.reasons" ]]
	run make -n -B -C "$ROOT" OUTPUT="$out" "$out/tcaccel.bpf.o"
	assert_output --regexp "clang .*-target bpf .*-Wall -Wextra -Werror"
	grep -q '^.DELETE_ON_ERROR:' "$ROOT/Makefile"
}

@test "warnings fail the build" {
	local out=$BATS_TEST_TMPDIR/build
	run make -s -C "$ROOT" OUTPUT="$out" BPF_EXTRA="-include $ROOT/tests/lib/warn.h"
	assert_failure
	[[ ! -e "$out/tcaccel.bpf.o" ]]
}

@test "UAPI headers only: no vmlinux.h, one SEC(\"tc\") program, GPL license" {
	run grep -rnE "#include.*vmlinux.h" "$ROOT/bpf"
	assert_failure
	assert_equal "$(grep -c 'SEC("tc")' "$ROOT/bpf/tcaccel.bpf.c")" 1
	run llvm-objdump -h "$ROOT/build/tcaccel.bpf.o"
	assert_output --regexp " tc +[0-9a-f]+ "
	assert_output --regexp " license "
}

@test "every map is named tcaccel_*" {
	local maps
	maps=$(llvm-objdump -t "$ROOT/build/tcaccel.bpf.o" | awk '$4 == ".maps" { print $NF }')
	[[ -n "$maps" ]]
	run grep -v '^tcaccel_' <<<"$maps"
	assert_failure
}

@test "the reason table matches the names compiled into the object" {
	# tcaccel_reason_names[][20] sits in .rodata in enum order: slot i of the
	# array must hold the name on line i of build/tcaccel.reasons.
	local ro=$BATS_TEST_TMPDIR/rodata from_obj from_table
	llvm-objcopy --dump-section ".rodata=$ro" "$ROOT/build/tcaccel.bpf.o"
	from_obj=$(/usr/bin/python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"REDIRECT\0")
while i + 20 <= len(d) and d[i:i + 1].isupper():
    print(d[i:i + 20].split(b"\0")[0].decode())
    i += 20
' "$ro")
	from_table=$(cut -f2 "$ROOT/build/tcaccel.reasons")
	[[ -n "$from_obj" ]]
	assert_equal "$from_table" "$from_obj"
	run awk -F'\t' 'NF != 3 || $3 == "" || $1 != NR - 1' "$ROOT/build/tcaccel.reasons"
	assert_output ""
}

@test "docs/usage.md explains every reason" {
	local _i r _d missing=()
	while IFS=$'\t' read -r _i r _d; do
		grep -q "\`$r\`" "$ROOT/docs/usage.md" || missing+=("$r")
	done <"$ROOT/build/tcaccel.reasons"
	assert_equal "missing: ${missing[*]}" "missing: "
}

@test "--help on every tool" {
	local t
	for t in scripts/tcaccel scripts/lint scripts/demo scripts/demo-docker scripts/vmtest netns/lab netns/router netns/node netns/docker netns/cluster scripts/mkdeb scripts/version tests/run; do
		run "$ROOT/$t" --help
		assert_success
		[[ -n "$output" ]] || fail "$t --help printed nothing"
	done
	run make -s -C "$ROOT" help
	assert_success
	assert_output --regexp "make load +IFACE=dev"
}

@test "README's test command is what .ci/run runs, and the demo command is there" {
	local readme_test
	readme_test=$(sed -n 's/^    *\(.*make test.*\)$/\1/p' "$ROOT/README.md" | head -n1)
	[[ -n "$readme_test" ]] || fail "no indented 'make test' command in README.md"
	grep -qF -- "$readme_test" "$ROOT/.ci/run"
	grep -qE '^ +.*make demo' "$ROOT/README.md"
}

@test "before the first make: deps, help and doctor run; the rest says to run make" {
	# A fresh clone has no build/ (the README's first command is deps).
	local tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree"
	cp -r "$ROOT/scripts" "$tree/"
	run "$tree/scripts/tcaccel" deps --help
	assert_success
	run "$tree/scripts/tcaccel" load --help
	assert_success
	assert_output --partial "Usage: tcaccel load"
	run "$tree/scripts/tcaccel" status
	assert_failure
	assert_output --partial "build/abi.sh missing: run 'make' first"
	run "$tree/scripts/tcaccel" load lo --mode auto
	assert_failure
	assert_output --partial "build/abi.sh missing"
}

@test "deps installs every command make vmtest checks for" {
	# The list vmtest checks before it starts (its `for c in ...` line) is
	# the one that matters: a package dropped from deps left `make vmtest`
	# failing on a fresh machine with "run 'scripts/tcaccel deps'".
	local cmds pkgs c path pkg
	cmds=$(sed -nE 's/^for c in (qemu-system-x86_64 .*); do$/\1/p' "$ROOT/scripts/vmtest")
	[[ "$cmds" == *busybox* ]]
	pkgs=" $(bash -c 'source "$1/scripts/lib/deps.sh"; echo "${DEB_PACKAGES[*]}"' _ "$ROOT") "
	owner() { # PATH -> the package dpkg says owns it (first owner; no diversions)
		dpkg -S "$1" 2>/dev/null | grep -v '^diversion by' | sed -n '1s/[:,].*//p' | grep .
	}
	for c in $cmds; do
		path=$(command -v "$c") || fail "$c is not installed: run 'scripts/tcaccel deps'"
		# as found, then (usrmerge: dpkg knows /bin/kmod) without /usr, then
		# the symlink's target
		pkg=$(owner "$path" || owner "${path#/usr}" || owner "$(readlink -f "$path")" ||
			owner "$(readlink -f "$path" | sed 's|^/usr||')") || fail "no package owns $path"
		# apt and dpkg come with every Debian system.
		[[ "$pkg" == apt || "$pkg" == dpkg || "$pkgs" == *" $pkg "* ]] || fail "$c ($pkg) is not in deps"
	done
}

@test "every test file has its own number, and DEVELOPERS.md lists it" {
	local dup f n
	local -a nums=()
	for f in "$ROOT"/tests/*.bats; do
		n=${f##*/}
		nums+=("${n%%-*}")
	done
	dup=$(printf '%s\n' "${nums[@]}" | sort | uniq -d)
	[[ -z "$dup" ]] || fail "test numbers used twice: $dup"
	for f in "$ROOT"/tests/*.bats; do
		n=$(basename "$f" .bats)
		grep -qF -- "\`$n\`" "$ROOT/DEVELOPERS.md" || grep -qF -- "\`$n\`," "$ROOT/DEVELOPERS.md" ||
			fail "DEVELOPERS.md's test list does not name $n"
	done
}

@test "README and docs/: every path of the tree they name exists" {
	local f p missing=()
	for f in "$ROOT/README.md" "$ROOT"/docs/*.md "$ROOT"/docs/runbooks/*.md "$ROOT/DEVELOPERS.md"; do
		# links, relative to the file
		while read -r p; do
			p=${p%%#*}
			[[ -z "$p" || -e "$(dirname "$f")/$p" ]] || missing+=("${f#"$ROOT"/}: ($p)")
		done < <(grep -oE '\]\([^)]+\)' "$f" | sed -E 's/^\]\(//; s/\)$//' | grep -vE '^(https?:|mailto:|#)' | sort -u)
		# paths in backticks, relative to the tree
		while read -r p; do
			p=${p%%:*}
			p=${p%/}
			[[ -e "$ROOT/$p" ]] || missing+=("${f#"$ROOT"/}: \`$p\`")
		done < <(grep -oE '`(bpf|scripts|docs|tests|netns|systemd|exercises|bench|deploy|debian)/[A-Za-z0-9_./@-]*' "$f" |
			sed 's/^`//' | grep -v '[*]' | sort -u)
	done
	assert_equal "missing: ${missing[*]}" "missing: "
}
