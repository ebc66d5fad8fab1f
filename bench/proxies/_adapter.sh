# shellcheck shell=bash
# Sourced by the proxy adapters in this directory; not an adapter itself.
#
# Adapter contract (compare.sh and syscalls.sh rely on nothing else):
#   NAME.sh start LISTEN_PORT HOST:PORT   start the proxy on 127.0.0.1:LISTEN_PORT in front of
#                                         HOST:PORT; return once it listens, printing (last line
#                                         of stdout) the PID whose CPU and memory are measured
#   NAME.sh stop                          end what `start` started, and nothing else
#   NAME.sh prepare                       optional one-time work before any measurement (build)
#   NAME.sh version                       one line naming the proxy and its version
# The proxy runs pinned to $PROXY_CPU, in a session of its own; its config, pid file and log
# live in $BENCH_STATE (compare.sh and syscalls.sh point it at their output directory).
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# header_twin HOST:PORT -> the backend's twin that reads a PROXY protocol header first, from
# $BENCH_PP_TWINS ("PLAIN TWIN ..." pairs that compare.sh and syscalls.sh export); nothing when the
# backend has none (an adapter asked to send headers then sends none to it)
header_twin() {
  local pairs=(${BENCH_PP_TWINS:-}) i
  for ((i = 0; i + 1 < ${#pairs[@]}; i += 2)); do
    [ "${pairs[i]}" = "$1" ] && { echo "${pairs[i + 1]}"; return 0; }
  done
}

# adapter_main NAME ARGS... -> dispatch to the adapter's proxy_start, proxy_prepare, proxy_version
adapter_main() {
  local name=$1; shift
  mkdir -p "$BENCH_STATE" || exit 1
  case ${1:-} in
    start)
      [ $# -eq 3 ] || { echo "usage: $0 start LISTEN_PORT HOST:PORT" >&2; exit 2; }
      owned "$name" >/dev/null && reap "$name"   # a leftover of ours from an interrupted run
      proxy_start "$name" "$2" "$3" ;;
    stop) reap "$name" ;;
    prepare) if declare -F proxy_prepare >/dev/null; then proxy_prepare; fi ;;
    version) proxy_version ;;
    *) echo "usage: $0 start LISTEN_PORT HOST:PORT | stop | prepare | version" >&2; exit 2 ;;
  esac
}

# started NAME PID PORT -> wait for PORT, then print PID; on failure show the log and clean up
started() {
  local name=$1 pid=$2 port=$3
  if await_listen "$port" "$pid" 30; then
    echo "$pid"
    return 0
  fi
  note "$name did not start; last lines of $BENCH_STATE/$name.log:"
  tail -n 15 "$BENCH_STATE/$name.log" >&2
  reap "$name"
  return 1
}

# fd_budget -> how many proxied connections the open-files limit allows (2 descriptors each)
fd_budget() { echo $(( ($(ulimit -n) - 100) / 2 )); }
