# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Bash completion for tcaccel (make install puts it in
# share/bash-completion/completions/tcaccel).  Everything it offers comes
# from the CLI's own --help texts, so it follows the CLI without edits:
#
#   commands        the Commands: block of `tcaccel --help`
#   options         the Usage: line of `tcaccel CMD --help`
#   --mode values   the "load:" words of the -m line in `tcaccel --help`
#   --format values the table|json|... alternatives in `tcaccel status --help`
#   IFACE           `ip -o link` (of --netns NS when given)
#   --netns NS      `ip netns list`
#   service         start|reload|stop, then an interface

# _tcaccel_help [CMD]: `tcaccel [CMD] --help`, remembered per shell.
declare -gA _TCACCEL_HELP=()
_tcaccel_help() {
	local key=${1:-_main}
	if [[ -z "${_TCACCEL_HELP[$key]+set}" ]]; then
		_TCACCEL_HELP[$key]=$("${_TCACCEL_CLI:-tcaccel}" ${1:+"$1"} --help 2>/dev/null)
	fi
	printf '%s\n' "${_TCACCEL_HELP[$key]}"
}

_tcaccel_commands() {
	_tcaccel_help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}

# Options of CMD: the --long words of its Usage: line (the main one's
# Options: block when CMD has no help of its own).
_tcaccel_options() {
	local h
	h=$(_tcaccel_help "$1")
	{
	if [[ "$h" == "$(_tcaccel_help)" ]]; then
		_tcaccel_option_tags | grep -oE -- '--[a-z-]+'
	else
		head -n1 <<<"$h" | grep -oE -- '--[a-z-]+'
	fi
	echo --help
	} | awk '!seen[$0]++'
}

# The tags of the main Options: block, one a line: "-F, --format FMT".
_tcaccel_option_tags() {
	_tcaccel_help | awk '/^Options:/ { on = 1; next } on && /^$/ { exit }
		on && /^ +-/ { sub(/^ +/, ""); sub(/  .*/, ""); print }'
}

# Options that take a value: their tag ends in an UPPERCASE word.
_tcaccel_takes_value() {
	_tcaccel_option_tags | tr -d ',' | awk -v o="$1" '
		{ for (i = 1; i < NF; i++) if ($i == o && $NF ~ /^[A-Z]+$/) f = 1 }
		END { exit !f }'
}

_tcaccel_ifaces() {
	local ns=$1
	ip ${ns:+-n "$ns"} -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
}

_tcaccel() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" netns="" i w
	local -a words=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case "$w" in
		-n | --netns) netns=${COMP_WORDS[i + 1]:-}; i=$((i + 1)); continue ;;
		-*) _tcaccel_takes_value "$w" && i=$((i + 1)); continue ;;
		*) ;;
		esac
		if [[ -z "$cmd" ]]; then cmd=$w; else words+=("$w"); fi
	done

	COMPREPLY=()
	case "$prev" in
	-n | --netns)
		mapfile -t COMPREPLY < <(compgen -W "$(ip netns list 2>/dev/null | awk '{ print $1 }')" -- "$cur")
		return 0
		;;
	-m | --mode)
		mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_help | sed -n 's/.*--mode [A-Z]* *load: \([^(]*\).*/\1/p')" -- "$cur")
		return 0
		;;
	-F | --format)
		mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_help status | head -n1 | sed -n 's/.*--format \([a-z|]*\).*/\1/p' | tr '|' ' ')" -- "$cur")
		return 0
		;;
	--obj | --conf)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	-d | --duration) return 0 ;;
	*) ;;
	esac

	if [[ -z "$cmd" ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_commands)" -- "$cur")
		return 0
	fi
	if [[ "$cur" == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_options "$cmd")" -- "$cur")
		return 0
	fi
	case "$cmd" in
	load | unload | status | st | trace)
		((${#words[@]} == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_ifaces "$netns")" -- "$cur")
		;;
	service)
		if ((${#words[@]} == 0)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_help service | head -n1 | awk '{ print $4 }' | tr '|' ' ')" -- "$cur")
		elif ((${#words[@]} == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_ifaces "")" -- "$cur")
		fi
		;;
	*) ;;
	esac
	return 0
}

complete -F _tcaccel tcaccel
