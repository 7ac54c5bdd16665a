#!/usr/bin/env bash
# Run a command against a throw-away two-node Ray cluster on this machine, in private network and
# process namespaces: the cluster, the driver and the command see only the loopback interface.
#
#   scripts/with-local-ray-cluster.sh bash -c '.venv/bin/reporter build --ray "$RAY_ADDRESS"'
#
# Why a namespace: outside one, Ray binds the machine's interface address and listens on every
# interface even when told 127.0.0.1, and it contacts the network by itself (the cloud-metadata
# address, DNS for usage-stats.ray.io) even with usage statistics disabled.
#
# Environment: RAY (the `ray` command, default: .venv/bin/ray, else `ray` on the PATH), NODE_CPUS
# (CPUs each node offers, default 1), RAY_SOCKETS_FILE (if set, every TCP socket of the namespace
# is written there before the cluster stops, as "local-address:port state").
set -euo pipefail

if [[ "${REPORTER_IN_NAMESPACE:-}" != 1 ]]; then
    # Its own PID namespace too, so `ray stop` below stops this cluster's processes and no one else's,
    # and none can outlive the command.
    exec env REPORTER_IN_NAMESPACE=1 unshare --user --map-root-user --net --pid --fork --mount-proc -- "$0" "$@"
fi

ip link set lo up
ray="${RAY:-$(if [[ -x .venv/bin/ray ]]; then realpath .venv/bin/ray; else command -v ray; fi)}"
cpus="${NODE_CPUS:-1}"
scratch="$(mktemp -d)"
export RAY_AUTH_MODE=token RAY_USAGE_STATS_ENABLED=0
RAY_AUTH_TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export RAY_AUTH_TOKEN
export RAY_ADDRESS=127.0.0.1:6379

stop_cluster() {
    if [[ -n "${RAY_SOCKETS_FILE:-}" ]]; then
        python3 - "$RAY_SOCKETS_FILE" <<'PY'
import socket, struct, sys
rows = []
for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
    for line in open(f"/proc/net/{name}").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        raw = bytes.fromhex(address)
        words = b"".join(struct.pack("<I", w) for w in struct.unpack(f">{len(raw) // 4}I", raw))
        rows.append(f"{socket.inet_ntop(family, words)}:{int(port, 16)} {state}")
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
    fi
    "$ray" stop --force >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
trap stop_cluster EXIT

common=(--node-ip-address=127.0.0.1 --num-cpus="$cpus" --num-gpus=0 --object-store-memory=500000000 --disable-usage-stats)
"$ray" start --head --port=6379 --include-dashboard=false "${common[@]}" >"$scratch/head.log" 2>&1 ||
    { cat "$scratch/head.log" >&2; exit 1; }
"$ray" start --address="$RAY_ADDRESS" "${common[@]}" >"$scratch/worker.log" 2>&1 ||
    { cat "$scratch/worker.log" >&2; exit 1; }
"$@"
