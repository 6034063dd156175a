#!/bin/sh
# spec/support/openwrt_rc.sh: runs an OpenWrt procd init script's start or
# stop on Debian, as OpenWrt's rc.common would, with stand-ins for what
# only OpenWrt has.  Written by this project from rc.common's documented
# order: start = start_service, then procd starts the instances, then
# service_started; stop = stop_service, then procd kills the instances.
#
#   sh openwrt_rc.sh INITSCRIPT start|stop STATE_DIR
#
# Stand-ins, configured through the environment:
#   config_load/config_get/config_get_bool  CONFIG_<section>_<option>=value (as functions.sh stores it)
#   uci -q -X show dhcp / uci -q get ...    UCI_DHCP_SHOW: lines of "uci -X show dhcp"
#   procd instances                         started in the background, pids in STATE_DIR
#   PROG, DNSMASQ_INIT                      RC_PROG, RC_DNSMASQ_INIT replace the script's paths
#   pidof dnsmasq                           with RC_DNSMASQ_PIDFILE: is that dnsmasq running
#                                           (this machine may run other dnsmasq processes)
set -u
script=$1 action=$2 state=$3

config_load() { :; }
config_get() { # config_get VAR SECTION OPTION [DEFAULT]
	eval "_v=\${CONFIG_${2}_${3}-}"
	[ -n "$_v" ] || _v=${4-}
	eval "$1=\$_v"
}
config_get_bool() {
	config_get "$@"
	eval "case \"\$$1\" in 1|on|true|yes|enabled) $1=1 ;; *) $1=0 ;; esac"
}
uci() {
	case "$*" in
	"-q -X show dhcp") printf '%s\n' "${UCI_DHCP_SHOW-}" ;;
	"-q get "*) _key=${3#dhcp.}; _key=$(echo "$_key" | tr '.' '_'); eval "printf '%s' \"\${UCI_${_key}-}\"" ;;
	*) echo "uci stand-in: unsupported: $*" >&2; return 1 ;;
	esac
}
procd_open_instance() { _cmd=""; }
procd_set_param() {
	_what=$1; shift
	if [ "$_what" = command ]; then
		_cmd=""
		for _a in "$@"; do _cmd="$_cmd '$_a'"; done
	fi
}
procd_close_instance() {
	[ -n "$_cmd" ] || return 0
	echo "$_cmd" >"$state/command"
	# detached, in a session of its own, holding none of our descriptors,
	# like a procd instance; the pid file gets the command's own pid
	setsid sh -c "echo \$\$ >'$state/instance.pid'; exec $_cmd" </dev/null >>"$state/instance.log" 2>&1 &
	while [ ! -s "$state/instance.pid" ]; do sleep 0.01; done
}
procd_add_reload_trigger() { :; }
if [ -n "${RC_DNSMASQ_PIDFILE-}" ]; then
	pidof() {
		[ "$1" = dnsmasq ] && [ -s "$RC_DNSMASQ_PIDFILE" ] && kill -0 "$(cat "$RC_DNSMASQ_PIDFILE")" 2>/dev/null
	}
fi
procd_kill() {
	[ -f "$state/instance.pid" ] || return 0
	kill "$(cat "$state/instance.pid")" 2>/dev/null
	rm -f "$state/instance.pid"
}

# shellcheck disable=SC1090
. "$script"
PROG=${RC_PROG:-$PROG}
DNSMASQ_INIT=${RC_DNSMASQ_INIT:-$DNSMASQ_INIT}

case "$action" in
start)
	start_service
	if type service_started >/dev/null 2>&1; then service_started; fi
	;;
stop)
	stop_service
	procd_kill
	;;
*)
	echo "usage: openwrt_rc.sh INITSCRIPT start|stop STATE_DIR" >&2
	exit 2
	;;
esac
