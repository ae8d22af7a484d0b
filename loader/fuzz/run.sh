#!/usr/bin/env bash
# Fuzz the loader with libFuzzer on stable Rust (no cargo-fuzz or nightly needed): coverage
# instrumentation through stable -C flags, a seed corpus of real objects, SECONDS of fuzzing.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
mkdir -p corpus/load_bytes
cc -O2 -c ../../examples/sample/hello.c -o corpus/load_bytes/hello.o
cargo run -q --manifest-path ../../host-push/Cargo.toml -- pack corpus/load_bytes/hello.o -o corpus/load_bytes/hello.packed.o
# Seeds for the ARM and RISC-V back-ends (the target also loads with any architecture).
if command -v arm-none-eabi-gcc >/dev/null; then
  arm-none-eabi-gcc -mthumb -mcpu=cortex-m3 -Os -c ../../examples/sample/hello.c -o corpus/load_bytes/hello.arm.o
  cargo run -q --manifest-path ../../host-push/Cargo.toml -- pack corpus/load_bytes/hello.arm.o -o corpus/load_bytes/hello.arm.packed.o
fi
if command -v riscv64-unknown-elf-gcc >/dev/null; then
  # No C library headers in that toolchain: the sample with its three declarations instead.
  sed -e 's/#include <stdio.h>/int puts(const char *); int snprintf(char *, unsigned, const char *, ...);/' \
      -e 's/#include <string.h>/unsigned strlen(const char *);/' ../../examples/sample/hello.c |
    riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 -Os -ffreestanding -x c -c - -o corpus/load_bytes/hello.rv32.o
  cargo run -q --manifest-path ../../host-push/Cargo.toml -- pack corpus/load_bytes/hello.rv32.o -o corpus/load_bytes/hello.rv32.packed.o
fi
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions"
target=x86_64-unknown-linux-gnu
CARGO_TARGET_DIR=target/cov cargo build --release --target "$target"
exec "target/cov/$target/release/load_bytes" corpus/load_bytes -max_total_time="$seconds"
