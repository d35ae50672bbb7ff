#!/usr/bin/env bash
# check-memory.sh -- memory checks for sbcg's C code.
#
# Two passes, each against a private build of the package in a temporary
# library (the normal installation in the site library is never touched):
#
#   1. ASan/UBSan: the package is compiled with
#        -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
#        -fno-sanitize-recover=undefined
#      and the whole test suite is run with the sanitizer runtimes
#      LD_PRELOADed into the (uninstrumented) R.  Any AddressSanitizer or
#      UndefinedBehaviorSanitizer report stops R.
#   2. valgrind: the package is compiled with -O2 -g and the tests are run
#      under R -d "valgrind --error-exitcode=1 ...".  By default all test
#      files; with --quick all but test-accuracy.R, whose two short fits
#      take long under valgrind.  The tests with default training budgets
#      (hours under valgrind) run only if SBCG_SLOW_TESTS=true is set.
#
# Both passes check that the tests really loaded the private build (the
# path of the loaded sbcg.so is recorded from inside the test process).
# The working tree's sources (tracked files and untracked, not ignored
# ones, i.e. including uncommitted changes) are copied once, at the start,
# to a temporary directory; builds and test runs happen there, so no file
# in the repository is written (not even src/*.o).  Temporary files are
# removed at exit unless --keep is given.
#
# Usage (from anywhere; the script finds the repository root itself):
#   bash tools/check-memory.sh [--quick] [--asan-only | --valgrind-only] [--keep]
#
#   --quick          valgrind pass without tests/testthat/test-accuracy.R
#   --asan-only      run only the ASan/UBSan pass
#   --valgrind-only  run only the valgrind pass
#   --keep           keep the temporary directory (logs, builds)
#
# Exit status 0 only if every pass ran all its tests with no failure and
# no memory error (a test failure fails the pass too, memory error or
# not).  The last lines printed are a summary: per pass, its time, the
# test counts ("N passed, N failed"), "0 errors" or the error summary
# (sanitizer reports; valgrind's ERROR SUMMARY line), and the headers of
# failed tests.  The tests see SBCG_MEMCHECK=asan or =valgrind, so that
# wall-clock assertions can be skipped under the (slow) checkers.
# valgrind is installed with apt-get if it is missing (needs root).
set -euo pipefail

quick=0; do_asan=1; do_valgrind=1; keep=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --asan-only) do_valgrind=0 ;;
    --valgrind-only) do_asan=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-memory.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$do_asan" = 0 ] && [ "$do_valgrind" = 0 ]; then
  echo "check-memory.sh: --asan-only and --valgrind-only exclude each other" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/DESCRIPTION" ] && grep -q '^Package: sbcg$' "$root/DESCRIPTION" || {
  echo "check-memory.sh: $root is not the sbcg repository" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sbcg-memcheck.XXXXXX")
cleanup() {
  if [ "$keep" = 1 ]; then echo "(kept $tmp)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n== %s\n' "$*"; }
elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---------------------------------------------------------------- helpers

# snapshot_sources DEST: the package sources as a fresh clone would have
# them (tracked and untracked-but-not-ignored files of the working tree),
# so stale objects in src/ are neither reused nor overwritten.  Taken once,
# so that both passes test the same sources even if the tree changes.
snapshot_sources() {
  local dest=$1
  mkdir -p "$dest"
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
      while IFS= read -r -d '' f; do
        [ -e "$root/$f" ] && printf '%s\0' "$f"
      done >"$tmp/files.lst"
    tar -C "$root" --null -T "$tmp/files.lst" -cf - | tar -C "$dest" -xf -
  else
    tar -C "$root" --exclude=./.git --exclude='./src/*.o' --exclude='./src/*.so' \
      --exclude='./src/*.dll' -cf - . | tar -C "$dest" -xf -
  fi
}

# build NAME CFLAGS LDFLAGS [INSTALL-OPTIONS...]: copy the snapshot to
# $tmp/NAME-src and install it into the library $tmp/NAME-lib, with a
# private Makevars file (the user's ~/.R/Makevars is not read).
build() {
  local name=$1 cflags=$2 ldflags=$3; shift 3
  local src="$tmp/$name-src" lib="$tmp/$name-lib" mk="$tmp/$name.Makevars"
  cp -a "$tmp/snapshot" "$src"
  mkdir -p "$lib"
  {
    echo "CFLAGS = $cflags"
    [ -n "$ldflags" ] && echo "LDFLAGS = $ldflags"
  } >"$mk"
  echo "CFLAGS = $cflags${ldflags:+; LDFLAGS = $ldflags}"
  if ! R_MAKEVARS_USER="$mk" R CMD INSTALL --no-docs --library="$lib" "$@" "$src" \
      >"$tmp/$name-install.log" 2>&1; then
    cat "$tmp/$name-install.log"
    echo "check-memory.sh: installing the $name build failed" >&2
    exit 1
  fi
  grep -m 1 -E '^gcc ' "$tmp/$name-install.log" || true
}

# An R profile for the test processes: when sbcg's namespace is loaded it
# writes the path of the loaded shared object to $SBCG_DLL_RECORD.
cat >"$tmp/Rprofile" <<'EOF'
setHook(packageEvent("sbcg", "onLoad"), function(...) {
  dll <- getLoadedDLLs()[["sbcg"]][["path"]]
  cat(normalizePath(dll), "\n", sep = "", file = Sys.getenv("SBCG_DLL_RECORD"))
})
EOF

# check_loaded NAME: did the tests of pass NAME load $tmp/NAME-lib/sbcg?
check_loaded() {
  local name=$1 want got
  want=$(cd "$tmp/$name-lib/sbcg/libs" && pwd -P)/sbcg.so
  got=$(cat "$tmp/$name-dll.txt" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then
    echo "loaded sbcg.so: $got (the private build)"
    return 0
  fi
  echo "check-memory.sh: the tests loaded '${got:-nothing}', not $want" >&2
  return 1
}

# test counts, the last "N passed, N failed" line of a log
counts() {
  grep -aoE '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$1" | tail -n 1 ||
    echo "no test counts (R stopped before the end of the tests)"
}

# the headers of testthat's failure and error reports in a log, indented
failures() {
  grep -aoE "(Failure|Error) \([^)]*\): .*" "$1" | sed 's/^/    test /' || true
}

# The suite without the accuracy tests (for --quick), as a copy in
# $tmp.  Tests always run from the copied sources, so they never write
# into the repository.
test_dirs() {
  local src=$1
  mkdir -p "$tmp/tests-quick"
  cp -a "$src/tests/testthat/." "$tmp/tests-quick/"
  rm -f "$tmp/tests-quick/test-accuracy.R"
}

snapshot_sources "$tmp/snapshot"
status=0
summary=()

# ------------------------------------------------------ pass 1: ASan/UBSan
if [ "$do_asan" = 1 ]; then
  say "ASan/UBSan build"
  t0=$(date +%s)
  san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  # --no-test-load: the install-time test load would run without the
  # preloaded runtimes and fail; the tests below load the build instead.
  build asan "-O1 -g $san" "-fsanitize=address,undefined" --no-test-load
  so="$tmp/asan-lib/sbcg/libs/sbcg.so"
  if ! nm -D --undefined-only "$so" | grep -q '__asan_report' ||
     ! nm -D --undefined-only "$so" | grep -q '__ubsan_handle'; then
    echo "check-memory.sh: $so is not instrumented" >&2; exit 1
  fi
  libasan=$(gcc -print-file-name=libasan.so)
  libubsan=$(gcc -print-file-name=libubsan.so)
  for f in "$libasan" "$libubsan"; do
    [ -e "$f" ] || { echo "check-memory.sh: sanitizer runtime $f not found" >&2; exit 1; }
  done

  say "ASan/UBSan: full test suite"
  rc=0
  (
    cd "$tmp/asan-src"
    export LD_PRELOAD="$libasan $libubsan"
    export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:verify_asan_link_order=0:allocator_may_return_null=1:print_summary=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:print_summary=1"
    export R_LIBS="$tmp/asan-lib${R_LIBS:+:$R_LIBS}"
    export R_PROFILE_USER="$tmp/Rprofile" SBCG_DLL_RECORD="$tmp/asan-dll.txt"
    export SBCG_MEMCHECK=asan
    Rscript tools/run-tests.R tests/testthat
  ) 2>&1 | tee "$tmp/asan.log" || rc=$?
  secs=$(( $(date +%s) - t0 ))

  loaded=ok; check_loaded asan || loaded=bad
  # the first lines of each report (testthat's progress output may share
  # the line, so only the matching part is kept)
  reports=$(grep -aoE 'ERROR: (Address|Leak)Sanitizer: .*|[^ ]*: runtime error: .*|SUMMARY: [A-Za-z]+Sanitizer: .*' \
              "$tmp/asan.log" | sort -u || true)
  if [ -n "$reports" ]; then
    # and the innermost stack frame in sbcg's own sources
    frame=$(grep -aoE "#[0-9]+ 0x[0-9a-f]+ in [^ ]+ $tmp/asan-src/src/[^ ]+" "$tmp/asan.log" |
              head -n 1 | sed -E "s@^#[0-9]+ 0x[0-9a-f]+ in @first sbcg frame: @; s@$tmp/asan-src/@@" || true)
    if [ -n "$frame" ]; then reports+=$'\n'"$frame"; fi
    errs=$(printf '%s\n' "$reports" | sed 's/^/    /')
    errs=$'sanitizer reports:\n'"$errs"
  else
    errs="0 errors"
  fi
  summary+=("ASan/UBSan pass (all tests, $(elapsed "$secs")): $(counts "$tmp/asan.log"); $errs")
  if [ "$rc" != 0 ] || [ -n "$reports" ] || [ "$loaded" != ok ]; then
    status=1
    [ "$rc" != 0 ] && summary+=("    (R exited with status $rc)")
    f=$(failures "$tmp/asan.log"); if [ -n "$f" ]; then summary+=("$f"); fi
    [ "$loaded" != ok ] && summary+=("    (the tests did not load the sanitized build)")
  fi
fi

# -------------------------------------------------------- pass 2: valgrind
if [ "$do_valgrind" = 1 ]; then
  if ! command -v valgrind >/dev/null 2>&1; then
    say "installing valgrind"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends valgrind >/dev/null
  fi

  say "valgrind build"
  t0=$(date +%s)
  build plain "-O2 -g" ""
  test_dirs "$tmp/plain-src"
  if [ "$quick" = 1 ]; then
    tests="$tmp/tests-quick"; what="all tests but test-accuracy.R"
  else
    tests="tests/testthat"; what="all tests"
  fi

  say "valgrind: $what"
  # --vgdb=no: no gdbserver FIFOs left in /tmp; no leak check (R itself
  # does not free everything at exit).
  vg="valgrind --error-exitcode=1 --leak-check=no --track-origins=yes --num-callers=30 --vgdb=no"
  rc=0
  (
    cd "$tmp/plain-src"
    export R_LIBS="$tmp/plain-lib${R_LIBS:+:$R_LIBS}"
    export R_PROFILE_USER="$tmp/Rprofile" SBCG_DLL_RECORD="$tmp/plain-dll.txt"
    export SBCG_MEMCHECK=valgrind
    R -d "$vg" --no-echo --no-restore --no-save -f tools/run-tests.R --args "$tests"
  ) 2>&1 | tee "$tmp/valgrind.log" || rc=$?
  secs=$(( $(date +%s) - t0 ))

  loaded=ok; check_loaded plain || loaded=bad
  vsum=$(grep -aoE 'ERROR SUMMARY: [0-9]+ errors.*' "$tmp/valgrind.log" | tail -n 1 || true)
  [ -n "$vsum" ] || vsum="no valgrind ERROR SUMMARY (valgrind did not finish)"
  case "$vsum" in
    "ERROR SUMMARY: 0 errors "*) errs="0 errors ($vsum)" ;;
    *)
      errs="$vsum"
      # the kinds of error, and the innermost frame in sbcg's sources
      kinds=$(grep -aoE '== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function)[^=]*' \
                "$tmp/valgrind.log" | sed 's/^== //' | sort | uniq -c | sed 's/^ */    /' || true)
      cfiles=$(cd "$tmp/plain-src/src" && ls *.c | paste -sd'|' | sed 's/\./\\./g')
      frame=$(grep -aoE "(at|by) 0x[0-9A-F]+: [^ ]+ \(($cfiles):[0-9]+\)" "$tmp/valgrind.log" |
                head -n 1 | sed -E 's/^(at|by) 0x[0-9A-F]+: /    first sbcg frame: /' || true)
      if [ -n "$kinds" ]; then errs+=$'\n'"$kinds"; fi
      if [ -n "$frame" ]; then errs+=$'\n'"$frame"; fi
      ;;
  esac
  summary+=("valgrind pass ($what, $(elapsed "$secs")): $(counts "$tmp/valgrind.log"); $errs")
  if [ "$rc" != 0 ] || [ "${errs#0 errors }" = "$errs" ] || [ "$loaded" != ok ]; then
    status=1
    [ "$rc" != 0 ] && summary+=("    (R under valgrind exited with status $rc)")
    f=$(failures "$tmp/valgrind.log"); if [ -n "$f" ]; then summary+=("$f"); fi
    [ "$loaded" != ok ] && summary+=("    (the tests did not load the private build)")
  fi
fi

say "summary"
printf '%s\n' "${summary[@]}"
if [ "$status" = 0 ]; then echo "memory checks passed"; else echo "memory checks FAILED"; fi
exit "$status"
