# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/sockmap.sh - `tcaccel sockmap ...`: the socket-level fast
# path (bpf/sockmap.bpf.c) for TCP between two local sockets.  Sourced by
# scripts/tcaccel after scripts/lib/common.sh; entry point: sockmap_main.
#
# bpftool does all the work, no loader of our own:
#   bpftool prog loadall OBJ DIR pinmaps DIR             programs and maps
#   bpftool prog attach pinned DIR/tcaccel_sk_msg msg_verdict pinned DIR/tcaccel_sock_hash
#   bpftool cgroup attach CG sock_ops pinned DIR/tcaccel_sockops multi
# with DIR=/sys/fs/bpf/tcaccel/sockmap and CG a cgroup v2 directory:
# by default <cgroup2 mount>/tcaccel, which load creates and unload removes.
#
# State lives in the kernel only: the pins, and the cgroup attachments
# (read back with `bpftool cgroup tree`).

[[ -n "${TCACCEL_SOCKMAP_SH:-}" ]] && return 0
readonly TCACCEL_SOCKMAP_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"

readonly SOCK_PIN_DIR="$TCACCEL_PIN_BASE/sockmap"
readonly SOCK_PROG_OPS=tcaccel_sockops
readonly SOCK_PROG_MSG=tcaccel_sk_msg
readonly SOCK_MAP_HASH=tcaccel_sock_hash
readonly SOCK_MAP_STATE=tcaccel_sock_state
readonly SOCK_MAP_STATS=tcaccel_sock_stats
readonly -a SOCK_PINS=("$SOCK_PROG_OPS" "$SOCK_PROG_MSG" "$SOCK_MAP_HASH" "$SOCK_MAP_STATE" "$SOCK_MAP_STATS")
# The cgroup load creates when none is named, relative to the cgroup2 mount.
SOCK_DEFAULT_CGROUP=${TCACCEL_SOCKMAP_CGROUP:-tcaccel}
SOCK_OBJ=${TCACCEL_SOCK_OBJ:-$TCACCEL_ROOT/build/sockmap.bpf.o}

SOCK_CGROUP=""
SOCK_FORMAT=table
SOCK_CMD=()

sockmap_usage() {
	cat <<EOF
Usage: tcaccel sockmap COMMAND [OPTIONS]

Socket-level fast path for TCP between two sockets of this host: a sockops
program puts every established TCP socket of a cgroup into a sockhash, an
sk_msg program hands each message straight to the peer socket when the
peer is in the map too (same host, same netns, also in the cgroup).

Commands:
  load              load (once) and attach to the cgroup
  unload            detach from the cgroup (default: from every cgroup) and,
                    when no cgroup is left, remove the pins
  status            pins, programs, cgroups, sockets in the map, counters
  exec -- CMD...    run CMD inside the cgroup (its sockets get accelerated)

Options:
  -c, --cgroup CG   a cgroup v2 directory: absolute, or relative to the
                    cgroup2 mount.  Default: <cgroup2 mount>/$SOCK_DEFAULT_CGROUP,
                    created by load, removed by unload once empty.  A named
                    cgroup must exist and is never created or removed.
                    The root cgroup is used only when named ('/').
  -F, --format FMT  status: table (default) or json
      --obj FILE    the BPF object (default: $SOCK_OBJ)
  -h, --help        this text

Make wraps it: make sockmap-load [CGROUP=path], make sockmap-unload
[CGROUP=path], make sockmap-status [FORMAT=json].

Pins: $SOCK_PIN_DIR/{${SOCK_PINS[*]}}
Only sockets created inside the cgroup (and its descendants) are
accelerated; a process joins it with 'tcaccel sockmap exec -- CMD' or
'echo PID > <cgroup>/cgroup.procs' (new sockets only).
EOF
}

sockmap_parse() {
	while (($#)); do
		case "$1" in
		-c | --cgroup) SOCK_CGROUP=${2:?--cgroup needs a path}; shift ;;
		-F | --format) SOCK_FORMAT=${2:?--format needs table or json}; shift ;;
		--obj) SOCK_OBJ=${2:?--obj needs a file}; shift ;;
		-h | --help) sockmap_usage; exit 0 ;;
		--) shift; SOCK_CMD=("$@"); break ;;
		*) die "unknown argument '$1' (see: tcaccel sockmap --help)" ;;
		esac
		shift
	done
	case "$SOCK_FORMAT" in table | json) ;; *) die "--format must be table or json" ;; esac
}

# --- cgroups --------------------------------------------------------------------

# The cgroup v2 mount point: /sys/fs/cgroup on unified systems,
# /sys/fs/cgroup/unified on hybrid ones, wherever else it was mounted.
cg2_mount() {
	local m
	m=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
		/proc/self/mountinfo | head -n1)
	[[ -n "$m" ]] || die "no cgroup v2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified, or boot with systemd.unified_cgroup_hierarchy=1)"
	printf '%s' "$m"
}

# Sets CG_PATH (absolute directory) and CG_DEFAULT (1 when it is the
# tool's own cgroup) from --cgroup.
resolve_cgroup() {
	local mnt
	mnt=$(cg2_mount)
	CG_DEFAULT=0
	if [[ -z "$SOCK_CGROUP" ]]; then
		CG_PATH="$mnt/${SOCK_DEFAULT_CGROUP#/}"
		CG_DEFAULT=1
	elif [[ "$SOCK_CGROUP" == / ]]; then
		CG_PATH=$mnt
	elif [[ "$SOCK_CGROUP" == /* ]]; then
		CG_PATH=${SOCK_CGROUP%/}
	else
		CG_PATH="$mnt/${SOCK_CGROUP%/}"
	fi
	if [[ "$CG_PATH" == "$mnt/${SOCK_DEFAULT_CGROUP#/}" ]]; then
		CG_DEFAULT=1
	fi
	if [[ -d "$CG_PATH" && "$(stat -f -c %T "$CG_PATH")" != cgroup2fs ]]; then
		die "$CG_PATH is not on a cgroup v2 filesystem (the cgroup2 mount is $mnt)"
	fi
}

# Processes in cgroup directory $1 (not counting descendants).
cg_procs() { cat "$1/cgroup.procs" 2>/dev/null || true; }

# --- what is loaded and attached ------------------------------------------------

sock_pin() { printf '%s/%s' "$SOCK_PIN_DIR" "$1"; }

# 0: every pin present; 1: none; 2: some (a load that died half-way).
sock_pins_state() {
	local p n=0
	for p in "${SOCK_PINS[@]}"; do
		[[ -e "$(sock_pin "$p")" ]] && n=$((n + 1))
	done
	((n == ${#SOCK_PINS[@]})) && return 0
	((n == 0)) && return 1
	return 2
}

sock_prog_id() {
	bpftool -j prog show pinned "$(sock_pin "$1")" 2>/dev/null | jq -r '.id // empty'
}

# "id<TAB>cgroup" for every cgroup a program named tcaccel_sockops is
# attached to, whoever loaded it: this bpffs, another one (a test run in
# its own mount namespace), or a load whose pins are gone.
sock_attachments_all() {
	bpftool -j cgroup tree "$(cg2_mount)" 2>/dev/null |
		jq -r --arg name "$SOCK_PROG_OPS" '
			.[]? | .cgroup as $cg | .programs[]?
			| select(.attach_type == "cgroup_sock_ops" and .name == $name)
			| "\(.id)\t\($cg)"'
}

# Ours, out of those: the program pinned in $SOCK_PIN_DIR wherever it is
# attached, and any tcaccel_sockops on the tool's own cgroup or on the one
# named with --cgroup (ours whatever its id: pins can get lost).  Never a
# cgroup somebody else attached to: several loads (test runs, the demo)
# can live side by side, each with its own cgroup and bpffs.
sock_attachments() {
	local id own named=""
	id=$(sock_prog_id "$SOCK_PROG_OPS")
	own="$(cg2_mount)/${SOCK_DEFAULT_CGROUP#/}"
	[[ -n "$SOCK_CGROUP" ]] && named=${CG_PATH:-}
	sock_attachments_all | awk -F'\t' -v id="${id:-none}" -v own="$own" -v named="$named" \
		'$1 == id || $2 == own || (named != "" && $2 == named)'
}

# Detach tcaccel_sockops programs other than ours from cgroup $1 (left
# by a load whose pins were lost): two would add every socket twice.
sock_detach_strays() {
	local cg=$1 ours=$2 id c
	while IFS=$'\t' read -r id c; do
		[[ -n "$id" && "$c" == "$cg" && "$id" != "$ours" ]] || continue
		warn "detaching a stray $SOCK_PROG_OPS (prog $id, no pins) from $cg"
		bpftool cgroup detach "$cg" sock_ops id "$id" || true
	done < <(sock_attachments_all)
}

# --- load -----------------------------------------------------------------------

sock_remove_pins() {
	local p
	for p in "${SOCK_PINS[@]}"; do
		rm -f -- "$(sock_pin "$p")"
	done
	rmdir -- "$SOCK_PIN_DIR" 2>/dev/null || true
	rmdir -- "$TCACCEL_PIN_BASE" 2>/dev/null || true
}

sockmap_load() {
	need_root tcaccel sockmap load
	require_cmd bpftool jq flock
	tcaccel_lock
	[[ -f "$SOCK_OBJ" ]] || die "BPF object $SOCK_OBJ not built: run 'make' first"
	resolve_cgroup
	if [[ ! -d "$CG_PATH" ]]; then
		((CG_DEFAULT)) || die "cgroup $CG_PATH does not exist: create it (mkdir $CG_PATH) or leave --cgroup out to use the default"
		mkdir -- "$CG_PATH"
		info "created cgroup $CG_PATH"
	fi
	if [[ "$CG_PATH" == "$(cg2_mount)" ]]; then
		warn "attaching to the ROOT cgroup: every TCP socket of every process on this host is in scope"
	fi
	bpffs_ensure

	local st=0
	sock_pins_state || st=$?
	if ((st == 2)); then
		[[ -z "$(sock_attachments)" ]] ||
			die "$SOCK_PIN_DIR is incomplete but the program is still attached: 'tcaccel sockmap unload' first"
		warn "removing incomplete pins in $SOCK_PIN_DIR (an earlier load stopped half-way)"
		sock_remove_pins
		st=1
	fi
	if ((st == 1)); then
		mkdir -p "$TCACCEL_PIN_BASE"
		local err
		if ! err=$(bpftool prog loadall "$SOCK_OBJ" "$SOCK_PIN_DIR" pinmaps "$SOCK_PIN_DIR" 2>&1); then
			log "$err"
			sock_remove_pins
			die "bpftool could not load $SOCK_OBJ (its messages above)"
		fi
	elif [[ "$SOCK_OBJ" -nt "$(sock_pin "$SOCK_PROG_MSG")" ]]; then
		warn "$SOCK_OBJ is newer than the loaded programs: 'tcaccel sockmap unload' then load to use it"
	fi

	# msg_verdict first, then sockops: a socket added to the map before the
	# map has its verdict program would never run it (the psock takes the
	# map's programs when the socket is added).  Attaching the same
	# program again replaces it with itself: idempotent.
	bpftool prog attach pinned "$(sock_pin "$SOCK_PROG_MSG")" msg_verdict pinned "$(sock_pin "$SOCK_MAP_HASH")" ||
		die "could not attach $SOCK_PROG_MSG to $SOCK_MAP_HASH"

	local ops_id
	ops_id=$(sock_prog_id "$SOCK_PROG_OPS")
	sock_detach_strays "$CG_PATH" "$ops_id"
	if sock_attachments | awk -F'\t' -v id="$ops_id" -v cg="$CG_PATH" '$1 == id && $2 == cg { f = 1 } END { exit !f }'; then
		info "already attached to $CG_PATH (prog id $ops_id)"
	else
		# multi: other sock_ops programs on this cgroup (or above it) keep
		# running; ours is one more in the list.
		bpftool cgroup attach "$CG_PATH" sock_ops pinned "$(sock_pin "$SOCK_PROG_OPS")" multi ||
			die "could not attach $SOCK_PROG_OPS to cgroup $CG_PATH"
		info "sockmap loaded: sock_ops prog $ops_id on cgroup $CG_PATH, pins $SOCK_PIN_DIR"
	fi
	info "run programs inside it with: tcaccel sockmap exec${SOCK_CGROUP:+ --cgroup $SOCK_CGROUP} -- CMD"
}

# --- unload ---------------------------------------------------------------------

sockmap_unload() {
	need_root tcaccel sockmap unload
	require_cmd bpftool jq flock
	tcaccel_lock
	local only="" id cg n=0
	if [[ -n "$SOCK_CGROUP" ]]; then
		resolve_cgroup
		only=$CG_PATH
	fi
	while IFS=$'\t' read -r id cg; do
		[[ -n "$id" ]] || continue
		[[ -z "$only" || "$cg" == "$only" ]] || continue
		bpftool cgroup detach "$cg" sock_ops id "$id"
		info "detached sock_ops prog $id from $cg"
		n=$((n + 1))
	done < <(sock_attachments)
	if [[ -n "$only" ]] && ((n == 0)); then
		info "not attached to $only"
	fi

	if [[ -n "$(sock_attachments)" ]]; then
		info "still attached to: $(sock_attachments | cut -f2 | paste -sd' '); pins kept"
	else
		local st=0
		sock_pins_state || st=$?
		if ((st != 1)); then
			# New sockets stop coming with the sock_ops detach.  Open
			# connections keep their psock, which holds the sk_msg
			# program, which holds the maps: they go on being redirected
			# until they close, then the kernel frees programs and maps.
			bpftool prog detach pinned "$(sock_pin "$SOCK_PROG_MSG")" msg_verdict \
				pinned "$(sock_pin "$SOCK_MAP_HASH")" 2>/dev/null || true
			sock_remove_pins
			info "sockmap unloaded: pins removed from $SOCK_PIN_DIR"
		elif ((n == 0)) && [[ -z "$only" ]]; then
			info "sockmap is not loaded"
		fi
	fi
	sock_default_cgroup_gc
}

# Remove the tool's own cgroup when nothing uses it any more.
sock_default_cgroup_gc() {
	local saved=$SOCK_CGROUP
	SOCK_CGROUP=""
	resolve_cgroup
	SOCK_CGROUP=$saved
	[[ -d "$CG_PATH" ]] || return 0
	if sock_attachments | cut -f2 | grep -qxF -- "$CG_PATH"; then
		return 0
	fi
	local procs
	procs=$(cg_procs "$CG_PATH" | wc -l)
	if ((procs > 0)); then
		info "cgroup $CG_PATH still holds $procs process(es): left in place (rmdir it once they exit)"
	elif rmdir -- "$CG_PATH" 2>/dev/null; then
		info "removed cgroup $CG_PATH"
	else
		info "cgroup $CG_PATH has child cgroups: left in place"
	fi
}

# --- status ---------------------------------------------------------------------

sock_reasons_file() {
	local f=${SOCK_OBJ%.bpf.o}.reasons
	[[ -f "$f" ]] || die "reason table $f missing: run 'make'"
	printf '%s' "$f"
}

sockmap_status_json() {
	local loaded=false ops_id="" msg_id="" stats='{"e": [], "b": []}' att
	if sock_pins_state; then
		loaded=true
		ops_id=$(sock_prog_id "$SOCK_PROG_OPS")
		msg_id=$(sock_prog_id "$SOCK_PROG_MSG")
		stats=$(bpftool -j map lookup pinned "$(sock_pin "$SOCK_MAP_STATS")" key hex 00 00 00 00 |
			jq -c '.formatted.values | map(.value)
				| {e: (map(.events) | transpose | map(add)), b: (map(.bytes) | transpose | map(add))}')
	fi
	att=$(sock_attachments | jq -Rsc 'split("\n") | map(select(length > 0) | split("\t")
		| {prog_id: (.[0] | tonumber), cgroup: .[1]})')
	# Key bytes (ABI with struct tcaccel_sock_key): addresses in network
	# order, ports and netns cookie in host order; bpftool shows no BTF
	# view of a sockhash, so decode the raw bytes.
	local le=false
	[[ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" == 1 ]] && le=true
	# The sockhash dump (2 sockets per connection) comes in on stdin: too
	# big for an argument.
	{ if [[ "$loaded" == true ]]; then bpftool -j map dump pinned "$(sock_pin "$SOCK_MAP_HASH")"; else echo '[]'; fi; } |
	jq --argjson loaded "$loaded" --arg dir "$SOCK_PIN_DIR" --arg ops "$ops_id" --arg msg "$msg_id" \
		--argjson att "$att" --argjson stats "$stats" --argjson le "$le" \
		--rawfile reasons "$(sock_reasons_file)" '. as $entries |
		def bytes: map(ltrimstr("0x") | explode
			| map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end) | .[0] * 16 + .[1]);
		def uint: (if $le then reverse else . end) | reduce .[] as $b (0; . * 256 + $b);
		def hex4: [(. / 4096 | floor), (. / 256 | floor) % 16, (. / 16 | floor) % 16, . % 16]
			| map("0123456789abcdef"[.:. + 1]) | join("") | sub("^0{1,3}"; "");
		def ip: if (.[0:10] | all(. == 0)) and .[10] == 255 and .[11] == 255
			then .[12:16] | map(tostring) | join(".")
			else . as $x | [range(0; 8) | $x[2 * .] * 256 + $x[2 * . + 1] | hex4] | join(":")
				| sub("(^|:)0(:0)+(:|$)"; "::") | "[" + . + "]" end;
		($reasons | split("\n") | map(select(length > 0) | split("\t") | {i: (.[0] | tonumber), name: .[1]})) as $rs
		| {
			loaded: $loaded,
			pins: (if $loaded then $dir else null end),
			prog_ids: {sockops: (if $ops == "" then null else ($ops | tonumber) end),
				sk_msg: (if $msg == "" then null else ($msg | tonumber) end)},
			cgroups: $att,
			sockets: ($entries | length),
			entries: [$entries[] | (.key | bytes) as $k | {
				local: "\($k[0:16] | ip):\($k[32:36] | uint)",
				remote: "\($k[16:32] | ip):\($k[36:40] | uint)",
				netns_cookie: ($k[40:48] | uint),
				socket_cookie: (.value | bytes | uint)}],
			counters: ($rs | map({key: .name, value: {events: ($stats.e[.i] // 0), bytes: ($stats.b[.i] // 0)}})
				| from_entries)
		}'
}

sockmap_status() {
	need_root tcaccel sockmap status
	require_cmd bpftool jq
	local js
	js=$(sockmap_status_json)
	if [[ "$SOCK_FORMAT" == json ]]; then
		jq . <<<"$js"
		return 0
	fi
	jq -r '
		if (.loaded | not) and (.cgroups | length == 0) then "sockmap is not loaded"
		else
		"sockmap  " + (if .loaded then "pins \(.pins)  sockops prog \(.prog_ids.sockops)  sk_msg prog \(.prog_ids.sk_msg)"
			else "NO PINS (attached programs without pins: tcaccel sockmap unload cleans up)" end),
		(if (.cgroups | length) == 0 then "    cgroups: none (not attached: tcaccel sockmap load)"
		 else "    cgroup   \(.cgroups[].cgroup)" end),
		"    sockets in tcaccel_sock_hash: \(.sockets)",
		(.counters | to_entries | map(select(.value.events > 0))
			| if length == 0 then "    (no events yet)"
			  else .[] | "    \(.key | . + " " * (16 - length))\(.value.events | tostring | " " * (12 - length) + .)"
				+ (if (.key | startswith("MSG_")) then " msgs  \(.value.bytes) bytes" else " sockets" end) end)
		end' <<<"$js"
}

# --- exec -----------------------------------------------------------------------

sockmap_exec() {
	need_root tcaccel sockmap exec
	((${#SOCK_CMD[@]} > 0)) || die "what should run? tcaccel sockmap exec [--cgroup CG] -- CMD [ARGS...]"
	resolve_cgroup
	[[ -d "$CG_PATH" ]] || die "cgroup $CG_PATH does not exist: run 'tcaccel sockmap load${SOCK_CGROUP:+ --cgroup $SOCK_CGROUP}' first"
	if ! sock_attachments_all | cut -f2 | grep -qxF -- "$CG_PATH"; then
		warn "sockmap is not attached to $CG_PATH: CMD runs there unaccelerated"
	fi
	# This very process joins the cgroup, then becomes CMD: every socket
	# CMD creates belongs to the cgroup (the cgroup is recorded at socket
	# creation; accepted sockets inherit their listener's).
	echo "$BASHPID" >"$CG_PATH/cgroup.procs"
	exec "${SOCK_CMD[@]}"
}

# --- doctor -----------------------------------------------------------------------

cg2_present() { grep -q ' - cgroup2 ' /proc/self/mountinfo; }

# Kernel support for what bpf/sockmap.bpf.c needs (bpftool feature probe).
sock_kernel_has() {
	bpftool -j feature probe kernel 2>/dev/null | jq -e '
		.program_types.have_sock_ops_prog_type and .program_types.have_sk_msg_prog_type
		and .map_types.have_sockhash_map_type and .map_types.have_sk_storage_map_type' >/dev/null
}

# Part of `tcaccel doctor`: uses its check() (warnings only: sockmap is
# optional).
sockmap_doctor() {
	echo "sockmap (tcaccel sockmap, optional):"
	check warn "cgroup v2 mounted" \
		"sockmap attaches to a cgroup v2: mount -t cgroup2 none /sys/fs/cgroup/unified" cg2_present
	if [[ $EUID -eq 0 ]] && have bpftool; then
		check warn "kernel has sock_ops, sk_msg, sockhash, sk_storage" \
			"a kernel >= 5.10 with CONFIG_BPF_STREAM_PARSER and CONFIG_CGROUP_BPF" sock_kernel_has
	fi
	check warn "object $SOCK_OBJ built" "make" test -f "$SOCK_OBJ"
}

sockmap_main() {
	local cmd=${1:-}
	(($#)) && shift
	case "$cmd" in
	load | unload | status | st | exec) ;;
	help | -h | --help) sockmap_usage; return 0 ;;
	"") sockmap_usage >&2; exit 2 ;;
	*) die "unknown sockmap command '$cmd' (see: tcaccel sockmap --help)" ;;
	esac
	sockmap_parse "$@"
	case "$cmd" in
	load) sockmap_load ;;
	unload) sockmap_unload ;;
	status | st) sockmap_status ;;
	exec) sockmap_exec ;;
	*) ;;
	esac
}
