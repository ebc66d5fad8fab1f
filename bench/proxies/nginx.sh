#!/usr/bin/env bash
# nginx stream module (L4 proxy_pass), 1 worker. The PID measured is the worker's: the master
# only supervises it.
. "$(dirname "$0")/_adapter.sh"
STREAM_MODULE=${NGINX_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}

proxy_version() { nginx -v 2>&1 | sed 's/^nginx version: //; s/^/nginx stream /'; }

proxy_start() {
  local name=$1 port=$2 target=$3 cfg="$BENCH_STATE/$1.conf" master worker i
  [ -f "$STREAM_MODULE" ] || { note "no $STREAM_MODULE (Debian package libnginx-mod-stream)"; return 1; }
  mkdir -p "$BENCH_STATE/$name-prefix"
  cat >"$cfg" <<CFG
load_module $STREAM_MODULE;
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $BENCH_STATE/$name.nginx.pid;
error_log $BENCH_STATE/$name.log warn;
events { worker_connections $(( $(fd_budget) * 2 )); }
stream {
    server {
        listen 127.0.0.1:$port backlog=4096;
        proxy_pass $target;
        proxy_timeout 1h;
    }
}
CFG
  master=$(spawn "$name" "$PROXY_CPU" "$BENCH_STATE/$name.log" \
    nginx -p "$BENCH_STATE/$name-prefix" -e "$BENCH_STATE/$name.log" -c "$cfg" -g 'daemon off;')
  started "$name" "$master" "$port" >/dev/null || return 1
  for ((i = 0; i < 50; i++)); do
    worker=$(pgrep -P "$master" | head -n1)
    [ -n "$worker" ] && { echo "$worker"; return 0; }
    sleep 0.1
  done
  note "$name: no worker process under master $master"
  reap "$name"
  return 1
}

adapter_main "${ADAPTER_NAME:-nginx}" "$@"
