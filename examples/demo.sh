#!/usr/bin/env bash
# The main job on the simulated default: compile a sample extension with the host compiler,
# rewrite it into stream order with `host-push pack`, and stream it through a pipe (a
# forward-only source, like a UART) into `ext-run`, which loads, links and runs it in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p host-push -p ext-run
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -Os -c examples/sample/hello.c -o "$out/hello.o"
target/debug/host-push pack "$out/hello.o" | target/debug/ext-run - --call hello_main
