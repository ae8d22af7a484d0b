#!/usr/bin/env bash
# examples/qemu/run.sh BOARD [--port PORT] [--flash FILE] [--icount] [--bench] [--no-build]
#                    [--build-only] [-- QEMU-ARGS...]
#
# Builds the firmware for BOARD (mps2-an385 or riscv32-virt) and runs it in QEMU in the
# foreground, with the board's UART on tcp:127.0.0.1:PORT (a free port unless --port is given).
# Prints `listening on tcp:127.0.0.1:PORT` once a client can connect. Stops QEMU when killed.
#   --flash FILE  riscv32-virt: the CFI flash bank 1 image, where installs go (created, 32 MiB,
#                 if missing)
#   --icount      run with -icount shift=0 (one guest instruction per virtual nanosecond)
#   --bench       firmware built with `--features bench`, run with --icount: it loads a large
#                 generated extension at start-up and logs `llext-fw: bench ...` (guest instructions)
#   --build-only  build (as the other options say) and exit
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
board="$1"; shift
port="" flash="" icount=0 build=1 bench=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --flash) flash="$2"; shift 2 ;;
    --icount) icount=1; shift ;;
    --bench) bench=1; icount=1; shift ;;
    --no-build) build=0; shift ;;
    --build-only) build=2; shift ;;
    --) shift; extra=("$@"); break ;;
    *) usage ;;
  esac
done

case "$board" in
  mps2-an385)
    target=thumbv7m-none-eabi qemu=qemu-system-arm
    machine=(-M mps2-an385) ;;
  riscv32-virt)
    target=riscv32imac-unknown-none-elf qemu=qemu-system-riscv32
    machine=(-M virt -bios none) ;;
  *) echo "run.sh: unknown board '$board' (mps2-an385 or riscv32-virt)" >&2; exit 2 ;;
esac
command -v "$qemu" >/dev/null || {
  echo "run.sh: $qemu not found (apt-get install qemu-system-arm qemu-system-misc)" >&2; exit 1; }

features=()
[ $bench = 1 ] && features=(--features bench)
if [ $build != 0 ]; then
  (cd "$here/$board" && cargo build --release --quiet "${features[@]}") >&2
fi
[ $build = 2 ] && exit 0
# QEMU runs a private copy: a later build (with other features) replaces cargo's output.
built="$here/$board/target/$target/release/$board"
elf="$(mktemp "${TMPDIR:-/tmp}/llext-$board.XXXXXX")"
cp "$built" "$elf"

listening() { # is something listening on 127.0.0.1:$1?
  if command -v ss >/dev/null; then ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
  else (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; fi
}

args=("${machine[@]}" -nographic -monitor none)
if [ "$board" = riscv32-virt ] && [ -n "$flash" ]; then
  [ -e "$flash" ] || truncate -s 32M "$flash"
  # With pflash unit 1, virt ignores -kernel (it expects firmware there, for EDK2); the generic
  # loader places the ELF and starts hart 0 at its entry instead.
  args+=(-device "loader,file=$elf,cpu-num=0" -drive "if=pflash,unit=1,format=raw,file=$flash")
else
  args+=(-kernel "$elf")
fi
[ $icount = 1 ] && args+=(-icount shift=0)

qpid=""
stop() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; wait 2>/dev/null; rm -f "$elf"; exit 0; }
trap stop INT TERM HUP
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -f "$elf"' EXIT

for attempt in 1 2 3 4 5 6 7 8; do
  p="${port:-$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))}"
  if [ -z "$port" ] && listening "$p"; then continue; fi
  "$qemu" "${args[@]}" -serial "tcp:127.0.0.1:$p,server,nowait" "${extra[@]}" </dev/null &
  qpid=$!
  for _ in $(seq 100); do
    listening "$p" && break
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$qpid" 2>/dev/null && listening "$p"; then
    echo "listening on tcp:127.0.0.1:$p"
    wait "$qpid"
    exit $?
  fi
  wait "$qpid" 2>/dev/null || true
  qpid=""
  [ -n "$port" ] && { echo "run.sh: QEMU could not listen on port $port" >&2; exit 1; }
done
echo "run.sh: no free port found" >&2
exit 1
