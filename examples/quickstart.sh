#!/usr/bin/env bash
# The main job with the command line, on the default local store and no config file:
# make an experiment run folder, upload it, list it, read its log, download it back and
# check every byte. Runs against whatever xt-services.storage names if you have a config.
set -euo pipefail

container="xtstore-quickstart"
work=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-quickstart.XXXXXX")
trap 'rm -rf "$work"' EXIT

run="$work/run-001"
mkdir -p "$run/metrics" "$run/checkpoints"
for step in $(seq 1 200); do echo "step $step loss $(( 1000 / step ))e-3"; done > "$run/log.txt"
printf 'epoch,acc\n1,0.71\n2,0.83\n3,0.88\n' > "$run/metrics/accuracy.csv"
head -c 3145728 /dev/urandom > "$run/checkpoints/model.bin"

set -x
xtstore services
xtstore containers delete --yes "$container" 2>/dev/null || true
xtstore containers create "$container"
xtstore upload "$run" "$container/runs/"
xtstore ls -l -r "$container/runs/run-001"
xtstore append "$container/runs/run-001/log.txt" $'run finished\n'
xtstore cat "$container/runs/run-001/log.txt" | tail -2
xtstore download "$container/runs/run-001" "$work/downloaded"
{ set +x; } 2>/dev/null

echo "run finished" >> "$run/log.txt"
diff -r "$run" "$work/downloaded"
echo "OK: uploaded, listed, appended to, downloaded and verified $(find "$run" -type f | wc -l) files byte for byte"
xtstore containers delete --yes "$container"
