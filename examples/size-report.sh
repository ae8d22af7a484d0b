#!/usr/bin/env bash
# examples/size-report.sh [--check]
#
# The code-size table of issue 11 in one command: builds size-probe and both QEMU firmwares
# (release: opt-level s, fat LTO, one codegen unit, panic abort) with and without the loader or
# device stack, and prints `text` (code and read-only data, as binutils' `size` counts it) of
# each and the difference. The firmwares are also built without their `signing` feature (no
# Ed25519 verifier), which the rows below them show. With --check, exits 1 when a difference passes its budget in
# examples/size-budget.txt (sizes are deterministic for one toolchain: a budget, not a timing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
check=0
[ "${1:-}" = "--check" ] && check=1

# text of a release build: DIR TARGET BIN SIZE-TOOL [cargo args...]
text() {
  local dir="$1" target="$2" bin="$3" tool="$4"; shift 4
  (cd "$here/$dir" && cargo build -q --release "$@" >&2)
  "$tool" "$here/$dir/target/$target/release/$bin" | awk 'NR == 2 { print $1 }'
}

arm=arm-none-eabi-size
rv=riscv64-unknown-elf-size
probe_with=$(text size-probe thumbv7m-none-eabi size-probe $arm)
probe_base=$(text size-probe thumbv7m-none-eabi size-probe $arm --no-default-features)
mps2_with=$(text qemu/mps2-an385 thumbv7m-none-eabi mps2-an385 $arm)
mps2_base=$(text qemu/mps2-an385 thumbv7m-none-eabi mps2-an385 $arm --no-default-features)
mps2_unsigned=$(text qemu/mps2-an385 thumbv7m-none-eabi mps2-an385 $arm --no-default-features --features loader)
rv_with=$(text qemu/riscv32-virt riscv32imac-unknown-none-elf riscv32-virt $rv)
rv_base=$(text qemu/riscv32-virt riscv32imac-unknown-none-elf riscv32-virt $rv --no-default-features)
rv_unsigned=$(text qemu/riscv32-virt riscv32imac-unknown-none-elf riscv32-virt $rv --no-default-features --features loader,flash)

status=0
printf '%-52s %10s %10s %10s %10s %10s %s\n' figure with without difference budget target ""
row() {
  local key="$1" label="$2" with="$3" base="$4" target="${5:-}"
  local diff=$((with - base))
  local budget
  budget=$(awk -v k="$key" '$1 == k { print $2 }' "$here/size-budget.txt")
  local mark=""
  if [ -n "$target" ]; then
    if [ "$diff" -le "$target" ]; then mark="target met"; else mark="target missed"; fi
  fi
  if [ -n "$budget" ] && [ "$diff" -gt "$budget" ]; then
    mark="OVER BUDGET"
    status=1
  fi
  printf '%-52s %10d %10d %10d %10s %10s %s\n' "$label" "$with" "$base" "$diff" "${budget:--}" "${target:--}" "$mark"
}
# The targets are issue 11's (12 KiB, 32 KiB, 56 KiB); a budget only stops growth.
row size-probe "loader core + ARM back-end (size-probe)" "$probe_with" "$probe_base" 12288
row mps2-an385 "mps2-an385 device stack (server, loader, UART...)" "$mps2_with" "$mps2_base" 32768
row riscv32-virt "riscv32-virt device stack with flash installs" "$rv_with" "$rv_base" 57344
row mps2-an385-unsigned "  mps2-an385 without the signature verifier" "$mps2_unsigned" "$mps2_base"
row riscv32-virt-unsigned "  riscv32-virt without the signature verifier" "$rv_unsigned" "$rv_base"
if [ "$check" = 1 ] && [ "$status" = 1 ]; then
  echo "size-report: a figure passed its budget in examples/size-budget.txt" >&2
  exit 1
fi
