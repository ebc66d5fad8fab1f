#!/usr/bin/env bash
# HAProxy as haproxy.sh, sending a PROXY protocol v2 header to the HTTP backend (send-proxy-v2).
HAPROXY_SEND_PROXY=send-proxy-v2 ADAPTER_NAME=haproxy-pp exec "$(dirname "$0")/haproxy.sh" "$@"
