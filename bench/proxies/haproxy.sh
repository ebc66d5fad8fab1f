#!/usr/bin/env bash
# HAProxy in TCP mode: 1 thread, no splice (set HAPROXY_SPLICE=1 for `option splice-auto`).
# HAPROXY_SEND_PROXY=send-proxy or send-proxy-v2: a PROXY protocol header to the HTTP backend,
# to backends with a twin port that reads one (header_twin in _adapter.sh), as fproxy.sh does.
. "$(dirname "$0")/_adapter.sh"

proxy_version() { haproxy -v | head -n1 | cut -d' ' -f1-3; }

proxy_start() {
  local name=$1 port=$2 target=$3 cfg="$BENCH_STATE/$1.cfg" pid splice=""
  local send="" twin
  [ "${HAPROXY_SPLICE:-0}" = 1 ] && splice="option splice-auto"
  twin=$(header_twin "$target")
  if [ -n "${HAPROXY_SEND_PROXY:-}" ] && [ -n "$twin" ]; then
    target=$twin send=$HAPROXY_SEND_PROXY
  fi
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
    server target $target $send
CFG
  pid=$(spawn "$name" "$PROXY_CPU" "$BENCH_STATE/$name.log" haproxy -db -f "$cfg")
  started "$name" "$pid" "$port"
}

adapter_main "${ADAPTER_NAME:-haproxy}" "$@"
