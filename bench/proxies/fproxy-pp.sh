#!/usr/bin/env bash
# FProxy as fproxy.sh, sending a PROXY protocol v2 header to the HTTP backend (the cc and ka
# workloads): the cost of the header next to fproxy.sh without it.
FPROXY_PROXY_PROTOCOL=v2 ADAPTER_NAME=fproxy-pp exec "$(dirname "$0")/fproxy.sh" "$@"
