# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib/service.sh - `tcaccel service start|reload|stop INSTANCE`:
# what the systemd template unit tcaccel@.service runs (systemd/), usable
# by hand on hosts without systemd.  Sourced.
#
# INSTANCE is the interface name unless the config says IFACE=.  The config
# (default /etc/tcaccel/INSTANCE.conf, absent = defaults) holds KEY=VALUE
# lines, '#' comments; it is parsed, never sourced:
#
#   IFACE=eth0       the device (default: INSTANCE); "all": every Ethernet
#                    interface of the netns (`load all`; reload picks up new
#                    ones, stop unloads every one)
#   NETNS=           its network namespace (default: this one)
#   MODE=auto        load --mode
#   FIREWALL=        load --firewall respect|bypass|refuse (default: respect
#                    when netfilter has rules on the forward path)
#   FORCE=0          1: load --force (= FIREWALL=bypass: the rules are
#                    bypassed, see `tcaccel load --help`)
#   DEBUG=0          1: load --debug
#   WAIT=60          start/reload: seconds to wait for the netns and for the
#                    device to exist and be up
#
# start and reload are the same idempotent load (tc filter replace: the
# program is swapped in place, counters kept); stop is unload.

# OPT and ARGS come from cli_parse (cli.sh).
# shellcheck disable=SC2154
[[ -n "${TCACCEL_SERVICE_SH:-}" ]] && return 0
readonly TCACCEL_SERVICE_SH=1

# shellcheck source=scripts/lib/common.sh
source "${BASH_SOURCE[0]%/*}/common.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/cli.sh"
# shellcheck source=/dev/null # checked on its own (scripts/lint)
source "${BASH_SOURCE[0]%/*}/load.sh"

readonly -a SERVICE_KEYS=(IFACE NETNS MODE FIREWALL FORCE DEBUG WAIT)

# service_conf FILE: parse FILE into SVC_<KEY> variables; unknown keys and
# malformed lines are errors that name the line.
service_conf() {
	local file=$1 line key val n=0
	[[ -e "$file" ]] || return 0
	[[ -r "$file" ]] || die "cannot read $file"
	while IFS= read -r line || [[ -n "$line" ]]; do
		n=$((n + 1))
		line=${line%%#*}
		line=${line#"${line%%[![:space:]]*}"}
		line=${line%"${line##*[![:space:]]}"}
		[[ -z "$line" ]] && continue
		[[ "$line" =~ ^([A-Z]+)=(.*)$ ]] || die "$file:$n: expected KEY=VALUE, got '$line'"
		key=${BASH_REMATCH[1]}
		val=${BASH_REMATCH[2]}
		if [[ "$val" =~ ^\"(.*)\"$ || "$val" =~ ^\'(.*)\'$ ]]; then
			val=${BASH_REMATCH[1]}
		fi
		[[ " ${SERVICE_KEYS[*]} " == *" $key "* ]] ||
			die "$file:$n: unknown key '$key' (known: ${SERVICE_KEYS[*]})"
		printf -v "SVC_$key" '%s' "$val"
	done <"$file"
}

# True when NS (if any) exists and DEV exists there with IFF_UP (DEV "all":
# the netns is enough).
service_dev_up() {
	local ns=$1 dev=$2
	if [[ -n "$ns" ]]; then netns_exists "$ns" || return 1; fi
	[[ "$dev" != all ]] || return 0
	in_ns "$ns" ip -j link show dev "$dev" 2>/dev/null | jq -e '.[0].flags | index("UP")' >/dev/null
}

cmd_service() {
	cli_parse service "$@"
	local action=${ARGS[0]:-} instance=${ARGS[1]:-} conf=${OPT[conf]:-}
	case "$action" in
	"") cli_usage service >&2; exit 2 ;;
	start | reload | stop | watch) ;;
	*) die "service: unknown action '$action' (start, reload, stop or watch)" ;;
	esac
	((${#ARGS[@]} <= 2)) || die "one instance at a time (got: ${ARGS[*]:1})"
	[[ -n "$instance" ]] || die "which instance? e.g. tcaccel service $action eth0"
	# a plain name (it names the config file); the interface name rules
	# apply to IFACE, which defaults to it
	is_netns_name "$instance" || die "instance '$instance': not a plain name (letters, digits, '_', '.', '-')"

	local SVC_IFACE=$instance SVC_NETNS="" SVC_MODE="" SVC_FIREWALL="" SVC_FORCE=0 SVC_DEBUG=0 SVC_WAIT=60
	service_conf "${conf:-$TCACCEL_CONFDIR/$instance.conf}"
	[[ "$SVC_WAIT" =~ ^[0-9]+$ ]] || die "WAIT='$SVC_WAIT': whole seconds"
	check_ifname "$SVC_IFACE"
	check_netns_name "$SVC_NETNS"
	local -a opts=()
	[[ -n "$SVC_NETNS" ]] && opts+=(--netns "$SVC_NETNS")

	if [[ "$action" == stop ]]; then
		cmd_unload "$SVC_IFACE" "${opts[@]}"
		return
	fi
	if [[ "$action" == watch ]]; then
		if [[ -n "$SVC_NETNS" ]] && ! netns_exists "$SVC_NETNS"; then
			info "waiting up to ${SVC_WAIT}s for netns $SVC_NETNS"
			wait_until "$SVC_WAIT" netns_exists "$SVC_NETNS" || die "netns $SVC_NETNS does not exist after ${SVC_WAIT}s"
		fi
		cmd_watch "${opts[@]}"
		return
	fi
	[[ -n "$SVC_MODE" ]] && opts+=(--mode "$SVC_MODE")
	[[ -n "$SVC_FIREWALL" ]] && opts+=(--firewall "$SVC_FIREWALL")
	case "$SVC_FORCE" in 1 | yes | true) opts+=(--force) ;; 0 | no | false | "") ;; *) die "FORCE='$SVC_FORCE': 0 or 1" ;; esac
	case "$SVC_DEBUG" in 1 | yes | true) opts+=(--debug) ;; 0 | no | false | "") ;; *) die "DEBUG='$SVC_DEBUG': 0 or 1" ;; esac
	if ! service_dev_up "$SVC_NETNS" "$SVC_IFACE"; then
		info "waiting up to ${SVC_WAIT}s for $SVC_IFACE (netns $(ns_label "$SVC_NETNS")) to exist and be up"
		wait_until "$SVC_WAIT" service_dev_up "$SVC_NETNS" "$SVC_IFACE" ||
			die "$SVC_IFACE is not up in netns $(ns_label "$SVC_NETNS") after ${SVC_WAIT}s (ip link set $SVC_IFACE up; or set WAIT= in the config)"
	fi
	cmd_load "$SVC_IFACE" "${opts[@]}"
}
