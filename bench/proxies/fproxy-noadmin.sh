#!/usr/bin/env bash
# FProxy as fproxy.sh, with the admin endpoint (and so the metrics it serves) off.
FPROXY_ADMIN_URL=none ADAPTER_NAME=fproxy-noadmin exec "$(dirname "$0")/fproxy.sh" "$@"
