#!/usr/bin/env bash
# check-arm64.sh -- what the portable kernels become on arm64.
#
# Every arm64 machine (Apple silicon among them) runs the portable kernels
# of src/kernels.c and src/kernels32.c, written with the compilers' generic
# vector extension so that they vectorise at R's default flags.  This
# script compiles both files with an aarch64 cross-compiler at -O2 (the
# flags R uses, without -march) and counts, in each function, the NEON
# vector fused multiply-adds (fmla), the scalar ones (fmadd and fmsub),
# the divisions and the calls (bl, into libm or elsewhere): a kernel that
# vectorised shows fmla and no fmadd.  Then, when qemu-aarch64 is there,
# it links tools/kernels-check.c with the kernels statically for arm64 and
# runs it under qemu: the portable kernels (Adam; in single and double
# precision the dense layer with the SiLU and its derivative, the weight
# gradient and the back-propagated gradient; the time embedding) against
# plain C references, so that the NEON code is executed, not only
# compiled.  It
# cannot time that code, which needs an arm64 machine.
#
# Usage (from anywhere; the script finds the repository root itself):
#   bash tools/check-arm64.sh
# Needs aarch64-linux-gnu-gcc (Debian: apt-get install gcc-aarch64-linux-gnu
# libc6-dev-arm64-cross) and R's headers (R.home("include")); for the run,
# qemu-aarch64-static or qemu-aarch64 (Debian: qemu-user-static).  Exit
# status 1 when a check of kernels-check.c fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC_ARM64:-aarch64-linux-gnu-gcc}
command -v "$cc" >/dev/null 2>&1 || {
  echo "$cc not found: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross" >&2
  exit 2
}
rinc=$(Rscript -e 'cat(R.home("include"))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cc" --version | head -n 1
for f in kernels kernels32; do
  "$cc" -O2 -fpic -I"$rinc" -S -o "$work/$f.s" "src/$f.c"
  echo "== src/$f.c (-O2)"
  printf '%-24s %6s %6s %6s %6s\n' function fmla fmadd fdiv calls
  # one line per function: the counts between its label and its .size
  awk '
    /^[A-Za-z_][A-Za-z0-9_]*:$/ { fn = substr($1, 1, length($1) - 1); next }
    /^\t\.size\t/ { if (fn != "") printf "%-24s %6d %6d %6d %6d\n", fn, v[fn], s[fn], d[fn], c[fn]; fn = ""; next }
    fn != "" && $1 == "fmla" { v[fn]++ }
    fn != "" && ($1 == "fmadd" || $1 == "fmsub") { s[fn]++ }
    fn != "" && $1 == "fdiv" { d[fn]++ }
    fn != "" && $1 == "bl" { c[fn]++ }
  ' "$work/$f.s"
done
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$qemu" ]; then
  echo "qemu-aarch64 not found: the kernels were compiled, not run (apt-get install qemu-user-static)"
  exit 0
fi
echo "== tools/kernels-check.c on arm64, under $(basename "$qemu")"
# the kernels at -O2 as above; the reference code without the vectoriser,
# on which gcc 12.2 for aarch64 stops with an internal error in
# check_backward()'s sums
"$cc" -O2 -I"$rinc" -c -o "$work/kernels.o" src/kernels.c
"$cc" -O2 -I"$rinc" -c -o "$work/kernels32.o" src/kernels32.c
"$cc" -O2 -fno-tree-vectorize -static -I"$rinc" -Isrc -o "$work/kernels-check" \
  tools/kernels-check.c "$work/kernels.o" "$work/kernels32.o" -lm
"$qemu" "$work/kernels-check"
