#!/usr/bin/env bash
# Fabric 1.x's side of bench/rollout: the same five commands with bench/fabfile_rollout.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fab() {
    HOME="$RFAB_FLEET_HOME" SSH_AUTH_SOCK= PYTHONWARNINGS=ignore "$here/.tools/fabric1/bin/fab" \
        -i "$RFAB_FLEET_HOME/.ssh/id_ed25519" -f "$here/fabfile_rollout.py" "$@"
}
fab prod proxy_group2
fab prod:out deploy:stable
fab prod proxy_flip
fab prod:out deploy:stable
fab prod proxy_all
