#!/usr/bin/env bash
# OpenSSH's side of "10 sequential commands on each of 5 hosts": one master connection per
# host, ten commands over it, hosts in parallel. Usage: openssh_controlmaster.sh CONFIG HOST...
set -euo pipefail
config=$1; shift
dir=$(mktemp -d)
trap 'for h in "$@"; do ssh -F "$config" -S "$dir/$h" -O exit "$h" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
for host in "$@"; do
    (
        ssh -F "$config" -S "$dir/$host" -M -fN "$host"
        for _ in $(seq 10); do ssh -F "$config" -S "$dir/$host" "$host" uname -a >/dev/null; done
    ) &
done
wait
