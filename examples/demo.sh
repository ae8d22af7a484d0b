#!/usr/bin/env bash
# The main command: start a simulated device (the real protocol server and loader, on this PC),
# compile the sample extension with the host `cc`, push it over TCP with host-push, run it, show
# the device's status, and stop the device.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p host-push -p sim-device
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d)
device=
trap '[ -n "$device" ] && kill "$device" 2>/dev/null; rm -rf "$work"' EXIT

"$bin/sim-device" --listen tcp:127.0.0.1:0 >"$work/device.out" &
device=$!
port=
for _ in $(seq 300); do # its first line is `listening on ADDRESS`
  port=$(sed -n 's/^listening on //p' "$work/device.out")
  [ -n "$port" ] && break
  kill -0 "$device" 2>/dev/null || { echo "sim-device did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "sim-device printed no address" >&2; exit 1; }
echo "sim-device is listening on $port"

cc -Os -c examples/sample/hello.c -o "$work/hello.o"
"$bin/host-push" "$work/hello.o" --port "$port" --call hello_main
"$bin/host-push" status --port "$port"
