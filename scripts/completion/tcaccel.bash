# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Bash completion for tcaccel (make install puts it in
# share/bash-completion/completions/tcaccel).  Everything it offers comes
# from the CLI's own command and option table (`tcaccel help --format json`,
# scripts/lib/cli.sh), so it follows the CLI without edits:
#
#   commands        .commands[].name
#   options         the command's .options (long names), and --help
#   option values   the option's .values (--mode, --format, --firewall)
#   IFACE           `ip -o link` (of --netns NS when given)
#   --netns NS      `ip netns list`
#   service         the actions in its operands, then an interface

# _tcaccel_table: the table, remembered per shell.
_tcaccel_table() {
	if [[ -z "${_TCACCEL_TABLE:-}" ]]; then
		_TCACCEL_TABLE=$("${_TCACCEL_CLI:-tcaccel}" help --format json 2>/dev/null)
	fi
	printf '%s\n' "$_TCACCEL_TABLE"
}

_tcaccel_commands() {
	_tcaccel_table | jq -r '.commands[].name'
}

# Options of CMD: its long options (--help among them).
_tcaccel_options() {
	_tcaccel_table | jq -r --arg c "$1" '.commands[] | select(.name == $c) | .options[] | "--" + .'
}

# _tcaccel_option WORD: the table entry of option WORD (-m or --mode).
_tcaccel_option() {
	_tcaccel_table | jq -ce --arg o "$1" \
		'first(.options[] | select("--" + .long == $o or (.short != "" and "-" + .short == $o)))'
}

_tcaccel_takes_value() {
	_tcaccel_option "$1" | jq -e '.arg != ""' >/dev/null
}

_tcaccel_ifaces() {
	local ns=$1
	ip ${ns:+-n "$ns"} -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
}

_tcaccel() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" netns="" i w entry
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
	if [[ "$prev" == -* ]] && entry=$(_tcaccel_option "$prev" 2>/dev/null); then
		case "$(jq -r .long <<<"$entry")" in
		netns)
			mapfile -t COMPREPLY < <(compgen -W "$(ip netns list 2>/dev/null | awk '{ print $1 }')" -- "$cur")
			return 0
			;;
		obj | conf)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		*)
			if jq -e '.arg != ""' >/dev/null <<<"$entry"; then
				mapfile -t COMPREPLY < <(compgen -W "$(jq -r '.values[].value' <<<"$entry")" -- "$cur")
				return 0
			fi
			;;
		esac
	fi

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
			mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_table |
				jq -r '.commands[] | select(.name == "service") | .operands | split(" ")[0] | split("|")[]')" -- "$cur")
		elif ((${#words[@]} == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_tcaccel_ifaces "")" -- "$cur")
		fi
		;;
	*) ;;
	esac
	return 0
}

complete -F _tcaccel tcaccel
