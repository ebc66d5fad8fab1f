#!/usr/bin/env bash
# HAProxy as haproxy.sh, with `option splice-auto`: kernel splice(2) instead of copies.
HAPROXY_SPLICE=1 ADAPTER_NAME=haproxy-splice exec "$(dirname "$0")/haproxy.sh" "$@"
