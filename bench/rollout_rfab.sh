#!/usr/bin/env bash
# rfab's side of bench/rollout: the rolling hotfix's five commands, or `rolling` for the one
# command, on the fleet `rfab-demo bench` describes in RFAB_FLEET_* variables. Without the
# watch after each switch (`watch=0`, as Fabric has none), or with `RFAB_WATCH=SECONDS`.
set -euo pipefail
rfab() {
    HOME="$RFAB_FLEET_HOME" SSH_AUTH_SOCK= "$RFAB_FLEET_RFAB" -f "$RFAB_FLEET_FABFILE" \
        --ssh-config-path "$RFAB_FLEET_SSH_CONFIG" --set "inventory=$RFAB_FLEET_INVENTORY" \
        --set "watch=${RFAB_WATCH:-0}" "$@"
}
if [ "${1:-}" = rolling ]; then
    rfab prod rolling:stable
else
    rfab prod proxy.group2
    rfab prod:out deploy:stable
    rfab prod proxy.flip
    rfab prod:out deploy:stable
    rfab prod proxy.all
fi
