#!/usr/bin/env bash
# HAProxy in TCP mode: 1 thread, no splice (set HAPROXY_SPLICE=1 for `option splice-auto`).
. "$(dirname "$0")/_adapter.sh"

proxy_version() { haproxy -v | head -n1 | cut -d' ' -f1-3; }

proxy_start() {
  local name=$1 port=$2 target=$3 cfg="$BENCH_STATE/$1.cfg" pid splice=""
  [ "${HAPROXY_SPLICE:-0}" = 1 ] && splice="option splice-auto"
  cat >"$cfg" <<CFG
global
    nbthread 1
    maxconn $(fd_budget)
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    $splice
listen bench
    bind 127.0.0.1:$port
    server target $target
CFG
  pid=$(spawn "$name" "$PROXY_CPU" "$BENCH_STATE/$name.log" haproxy -db -f "$cfg")
  started "$name" "$pid" "$port"
}

adapter_main "${ADAPTER_NAME:-haproxy}" "$@"
