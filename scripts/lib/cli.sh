# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/cli.sh - the command and option table of `tcaccel`, and what
# is derived from it (xdp-tools' way: one table, no prose to scrape):
#
#   cli_parse CMD ARG...      options into OPT[long-name], operands into ARGS
#   cli_usage [CMD]           --help texts
#   cli_table_json            `tcaccel help --format json`, which scripts/mkman
#                             (the man page) and the bash completion read
#
# A command's long description is prose in cli_describe; everything else -
# which options a command takes, their arguments, allowed values, defaults
# and help lines - is in the two tables below.

# OPT and ARGS are this file's output: the commands read them.
# shellcheck disable=SC2034
[[ -n "${TCACCEL_CLI_SH:-}" ]] && return 0
readonly TCACCEL_CLI_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
abi_source

# Commands, "NAME;OPERANDS;SUMMARY".  OPERANDS as the usage line shows them.
readonly -a CLI_COMMANDS=(
	"load;IFACE|all;attach the fast path to IFACE's tc ingress and enable it (all: every Ethernet interface of the netns)"
	"unload;IFACE|all;detach it (all: every interface tcaccel is loaded on in the netns)"
	"status;[IFACE];interfaces carrying the program, mode, the hook's other filters, counters by reason"
	"trace;IFACE;switch debug on and stream trace_pipe; off again on exit"
	"watch;;follow qdisc, filter, link and xfrm changes in the netns and keep the fast path from stepping over them"
	"service;start|reload|stop|watch INSTANCE;what tcaccel@INSTANCE.service (and tcaccel-watch@INSTANCE) run"
	"doctor;;check kernel features, mounts, tools and sysctls"
	"deps;;install the Debian packages tcaccel needs (apt; idempotent)"
	"sockmap;COMMAND;socket-level fast path for local TCP: load, unload, status, exec -- CMD (tcaccel sockmap --help)"
	"help;;this text (--format json: the command and option table)"
)

# Options, "SHORT;LONG;ARG;VALUES;DEFAULT;COMMANDS;HELP".  VALUES: the only
# values ARG may take ("@modes": the modes of the program, from build/abi.sh);
# COMMANDS: where the option is accepted ("*": everywhere).
readonly -a CLI_OPTIONS=(
	"n;netns;NS;;;load unload status trace watch;work in network namespace NS (default: this one)"
	"m;mode;MODE;@modes;auto;load;how a forwarded packet leaves"
	"w;firewall;FW;respect bypass refuse;;load;when netfilter has rules on the forward path (bpf_redirect skips them); default: respect then"
	"f;force;;;;load;the same as --firewall bypass"
	";debug;;;;load;bpf_printk every decision (see trace)"
	"a;all;;;;unload;every interface tcaccel is loaded on in the netns (the same as IFACE all)"
	"F;format;FMT;table json prom;table;status help;output: table for people, json for machines, prom for Prometheus (status)"
	"d;duration;S;;;trace;stop after S whole seconds (default: until Ctrl-C)"
	";obj;FILE;;;load;the BPF object"
	";conf;FILE;;;service;the instance's config (default: $TCACCEL_CONFDIR/INSTANCE.conf)"
	"h;help;;;;*;help for a command: tcaccel load --help"
)

# Help for each value of an option with VALUES ("OPTION VALUE" -> text).
declare -gA CLI_VALUE_HELP=(
	["firewall respect"]="accelerate only flows conntrack has established after the rules accepted them"
	["firewall bypass"]="accelerate everything: the rules are skipped (said loudly, shown in status)"
	["firewall refuse"]="do not load"
)
for __i in "${!TCACCEL_MODES[@]}"; do
	((__i > 0)) && CLI_VALUE_HELP["mode ${TCACCEL_MODES[__i]}"]=${TCACCEL_MODE_HELP[__i]}
done
unset __i

# The table, indexed: CLI_OPT_<FIELD>[long] and CLI_SHORT[short] = long.
declare -gA CLI_SHORT=() CLI_OPT_ARG=() CLI_OPT_VALUES=() CLI_OPT_DEFAULT=() \
	CLI_OPT_CMDS=() CLI_OPT_HELP=() CLI_OPT_SHORTOF=() CLI_CMD_OPERANDS=() CLI_CMD_SUMMARY=()
declare -ga CLI_CMD_NAMES=() CLI_OPT_NAMES=()
cli_index() {
	local row s l a v d c h
	for row in "${CLI_OPTIONS[@]}"; do
		IFS=';' read -r s l a v d c h <<<"$row"
		[[ "$v" == @modes ]] && v="${TCACCEL_MODES[*]:1}"
		CLI_OPT_NAMES+=("$l")
		CLI_OPT_ARG[$l]=$a CLI_OPT_VALUES[$l]=$v CLI_OPT_DEFAULT[$l]=$d
		CLI_OPT_CMDS[$l]=$c CLI_OPT_HELP[$l]=$h CLI_OPT_SHORTOF[$l]=$s
		[[ -z "$s" ]] || CLI_SHORT[$s]=$l
	done
	for row in "${CLI_COMMANDS[@]}"; do
		IFS=';' read -r l a h <<<"$row"
		CLI_CMD_NAMES+=("$l")
		CLI_CMD_OPERANDS[$l]=$a CLI_CMD_SUMMARY[$l]=$h
	done
}
cli_index

# cli_takes CMD OPTION: true when CMD accepts --OPTION.
cli_takes() {
	local c=" ${CLI_OPT_CMDS[$2]:-} "
	[[ "$c" == " * " || "$c" == *" $1 "* ]]
}

# cli_parse CMD ARG...: fills OPT (long name -> value, 1 for flags; defaults
# for options CMD takes) and ARGS (operands, in order).  --help prints the
# command's help and exits.  Unknown options, options CMD does not take and
# values outside an option's VALUES are errors that say what would do.
cli_parse() {
	local cmd=$1 a name val
	shift
	declare -gA OPT=()
	declare -ga ARGS=()
	for name in "${CLI_OPT_NAMES[@]}"; do
		if cli_takes "$cmd" "$name" && [[ -n "${CLI_OPT_DEFAULT[$name]}" ]]; then
			OPT[$name]=${CLI_OPT_DEFAULT[$name]}
		fi
	done
	while (($#)); do
		a=$1
		shift
		val=""
		case "$a" in
		--) ARGS+=("$@"); break ;;
		--*=*) name=${a%%=*}; name=${name#--}; val=${a#*=}; set -- "$val" "$@" ;;
		--?*) name=${a#--} ;;
		-?) name=${CLI_SHORT[${a#-}]:-} ;;
		-*) die "unknown option '$a' (see: tcaccel $cmd --help)" ;;
		*) ARGS+=("$a"); continue ;;
		esac
		[[ -n "$name" && -n "${CLI_OPT_CMDS[$name]+set}" ]] || die "unknown option '$a' (see: tcaccel $cmd --help)"
		cli_takes "$cmd" "$name" || die "tcaccel $cmd does not take --$name (see: tcaccel $cmd --help)"
		if [[ "$name" == help ]]; then
			cli_usage "$cmd"
			exit 0
		fi
		if [[ -z "${CLI_OPT_ARG[$name]}" ]]; then
			OPT[$name]=1
			continue
		fi
		(($#)) || die "--$name needs ${CLI_OPT_ARG[$name]}${CLI_OPT_VALUES[$name]:+ (${CLI_OPT_VALUES[$name]// /, })}"
		val=$1
		shift
		cli_abi "$cmd"
		if [[ -n "${CLI_OPT_VALUES[$name]}" && " ${CLI_OPT_VALUES[$name]} " != *" $val "* ]]; then
			die "--$name must be one of: ${CLI_OPT_VALUES[$name]// /, } (got '$val')"
		fi
		OPT[$name]=$val
	done
	cli_abi "$cmd"
}

# Every command but these needs build/abi.sh (--help works without it).
cli_abi() {
	case "$1" in deps | help | doctor) ;; *) abi_require ;; esac
}

# The usage line's option list for CMD: "[--netns NS] [--mode MODE] ...".
cli_synopsis() {
	local cmd=$1 name syn=""
	for name in "${CLI_OPT_NAMES[@]}"; do
		[[ "$name" == help ]] && continue
		cli_takes "$cmd" "$name" || continue
		syn+=" [--$name${CLI_OPT_ARG[$name]:+ ${CLI_OPT_ARG[$name]}}]"
	done
	printf '%s' "$syn"
}

# The Options: lines of CMD (all options for the main help).
cli_option_lines() {
	local cmd=${1:-} name tag s v c
	for name in "${CLI_OPT_NAMES[@]}"; do
		[[ -z "$cmd" || "$name" == help ]] || cli_takes "$cmd" "$name" || continue
		s=${CLI_OPT_SHORTOF[$name]}
		tag="${s:+-$s, }--$name${CLI_OPT_ARG[$name]:+ ${CLI_OPT_ARG[$name]}}"
		[[ -n "$s" ]] || tag="    $tag"
		c=""
		[[ -z "$cmd" && "${CLI_OPT_CMDS[$name]}" != "*" ]] && c="${CLI_OPT_CMDS[$name]// /, }: "
		printf '  %-22s %s%s%s\n' "$tag" "$c" "${CLI_OPT_HELP[$name]}" \
			"${CLI_OPT_DEFAULT[$name]:+ (default: ${CLI_OPT_DEFAULT[$name]})}"
		for v in ${CLI_OPT_VALUES[$name]}; do
			[[ -n "${CLI_VALUE_HELP["$name $v"]:-}" ]] || continue
			printf '  %-22s   %-9s %s\n' "" "$v" "${CLI_VALUE_HELP["$name $v"]}"
		done
	done
}

# cli_usage_line CMD: "Usage: tcaccel CMD OPERANDS [--option ARG]...".
cli_usage_line() {
	echo "Usage: tcaccel $1${CLI_CMD_OPERANDS[$1]:+ ${CLI_CMD_OPERANDS[$1]}}$(cli_synopsis "$1")"
}

# cli_usage [CMD]: the main help, or CMD's.
cli_usage() {
	local cmd=${1:-} c
	if [[ -z "$cmd" || -z "${CLI_CMD_SUMMARY[$cmd]+set}" || "$cmd" == help ]]; then
		echo "Usage: tcaccel COMMAND [OPERANDS] [OPTIONS]"
		echo
		echo "Commands:"
		for c in "${CLI_CMD_NAMES[@]}"; do
			printf '  %-34s %s\n' "$c ${CLI_CMD_OPERANDS[$c]}" "${CLI_CMD_SUMMARY[$c]}"
		done
		echo
		echo "Options:"
		cli_option_lines ""
		echo
		cli_describe ""
		return 0
	fi
	cli_usage_line "$cmd"
	echo
	cli_describe "$cmd"
	echo
	echo "Options:"
	cli_option_lines "$cmd"
}

# The command and option table as JSON (mkman, completion, anything else
# that needs to know what the CLI takes).
cli_table_json() {
	local c name v
	local -a takes
	{
		for c in "${CLI_CMD_NAMES[@]}"; do
			takes=()
			for name in "${CLI_OPT_NAMES[@]}"; do cli_takes "$c" "$name" && takes+=("$name"); done
			jq -cn --arg name "$c" --arg operands "${CLI_CMD_OPERANDS[$c]}" \
				--arg summary "${CLI_CMD_SUMMARY[$c]}" --arg usage "$(cli_usage_line "$c")" \
				--arg describe "$(cli_describe "$c")" \
				--args '{kind: "command", name: $name, operands: $operands, summary: $summary,
					usage: $usage, describe: $describe, options: $ARGS.positional}' \
				"${takes[@]+"${takes[@]}"}"
		done
		for name in "${CLI_OPT_NAMES[@]}"; do
			local -a vh=()
			for v in ${CLI_OPT_VALUES[$name]}; do vh+=("$v" "${CLI_VALUE_HELP["$name $v"]:-}"); done
			jq -cn --arg long "$name" --arg short "${CLI_OPT_SHORTOF[$name]}" \
				--arg arg "${CLI_OPT_ARG[$name]}" --arg default "${CLI_OPT_DEFAULT[$name]}" \
				--arg commands "${CLI_OPT_CMDS[$name]}" --arg help "${CLI_OPT_HELP[$name]}" \
				--args '{kind: "option", long: $long, short: $short, arg: $arg, default: $default,
					commands: ($commands | split(" ")), help: $help,
					values: [$ARGS.positional | range(0; length; 2) as $i | {value: .[$i], help: .[$i + 1]}]}' \
				"${vh[@]+"${vh[@]}"}"
		done
	} | jq -s '{commands: map(select(.kind == "command") | del(.kind)),
		options: map(select(.kind == "option") | del(.kind)), notes: $notes}' \
		--arg notes "$(cli_describe "")"
}

# cli_describe CMD: the prose of CMD's help ("" = the notes of the main
# help).  Paths and names are the running CLI's.
cli_describe() {
	case "$1" in
	"") cat <<EOF
Make wraps it: make load IFACE=eth0 [NETNS=ns] [MODE=auto] [FIREWALL=respect]

Pins: $TCACCEL_PIN_BASE/{host,ns/NAME}/tc/globals/tcaccel_{cfg,stats,peers}
Filter: tc filter ... ingress pref P handle $TCACCEL_HANDLE bpf da obj ... sec tc,
  P behind every other filter on the hook (TCACCEL_PREF=N to choose)
EOF
	;;
	load) cat <<EOF
Attaches $TCACCEL_OBJ to IFACE's clsact ingress (creating clsact only when
absent) with 'tc filter replace', behind every filter already on the hook,
so loading twice replaces, never stacks, and the filters there keep seeing
every packet.  Then enables IFACE in the tcaccel_cfg map with MODE and
refreshes the list of peer-capable veths of the netns.  "all" loads every
Ethernet interface of the netns that is not a bridge or bond port (a whole
container node).  When netfilter has rules on the forward path (bpf_redirect
skips them), the firewall mode decides: respect (the default then: only
established flows the rules accepted are accelerated, conntrack-gated),
bypass, or refuse.  IPsec policies, policy routing by mark and what this
kernel lacks are checked too: load refuses, or says what stays on the stack.
EOF
	;;
	unload) cat <<EOF
Removes tcaccel's filter only (at whatever preference it sits), clsact only
when no filter is left on it, the interface's config, and the pins once no
interface in the netns uses them.  Safe to run twice.
EOF
	;;
	status) cat <<EOF
Without --netns: every namespace tcaccel has pins for.  Counters are summed
over CPUs; the table shows reasons with packets, json shows all, prom is the
Prometheus text format (tcaccel_packets_total, tcaccel_bytes_total with
netns, interface and reason labels) for node_exporter's textfile collector.
Each interface lists the other filters on its ingress hook, and warns about
any that sits behind tcaccel (it sees only the packets tcaccel passes).
EOF
	;;
	trace) cat <<EOF
Sets debug on IFACE, prints its 'tcaccel:' lines from trace_pipe, and sets
debug off again on exit, Ctrl-C included.  trace_pipe is global and lossy:
a debugging aid, not a counter.
EOF
	;;
	watch) cat <<EOF
Runs until stopped: follows 'ip monitor' and 'tc monitor' in the netns and,
within a second of a change, refreshes what load decided from a snapshot:
the peer-capable veths (a qdisc or egress filter added to a container's
veth stops bpf_redirect_peer past it), devices that became a bridge or
bond port or left the netns (no longer accelerated), IPsec policies, and
filters added behind tcaccel (warned).  The service runs it.
EOF
	;;
	service) cat <<EOF
What the systemd unit tcaccel@INSTANCE.service runs.  Reads the config
(default $TCACCEL_CONFDIR/INSTANCE.conf; a missing file means the defaults)
with KEY=VALUE lines: IFACE (default INSTANCE; "all": every Ethernet
interface of the netns, as 'load all', and stop unloads them all), NETNS, MODE, FIREWALL,
FORCE=0|1, DEBUG=0|1, WAIT (seconds, default 60).  start/reload wait until
the netns and the device exist and the device is up, then load (idempotent:
the program is replaced in place, counters kept); stop unloads; watch waits
for the netns and follows it (tcaccel watch) until stopped: what
tcaccel-watch@INSTANCE.service runs next to tcaccel@INSTANCE.service.
EOF
	;;
	doctor) cat <<EOF
Checks root, the tools, tc with libbpf, the kernel's helpers and features
(and what tcaccel does without each), bpffs/tracefs and the forwarding
sysctls; every failure says the fix.
EOF
	;;
	deps) cat <<EOF
Installs with apt the Debian packages the CLI, the labs, the tests and the
bench use; installs nothing when all are present.
EOF
	;;
	sockmap)
		# its own help (scripts/lib/sockmap.sh), when loaded
		if declare -F sockmap_usage >/dev/null; then
			sockmap_usage | sed '1,/^$/d'
		else
			echo "See: tcaccel sockmap --help"
		fi
		;;
	help) echo "Prints the main help; --format json prints the command and option table." ;;
	*) ;;
	esac
}
