#!/usr/bin/env bash
# FProxy as fproxy.sh, on its fallback transport (FPROXY_TRANSPORT=sockets).
FPROXY_TRANSPORT=sockets ADAPTER_NAME=fproxy-sockets exec "$(dirname "$0")/fproxy.sh" "$@"
