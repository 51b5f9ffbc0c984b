#!/usr/bin/env bash
# Fault injection against mnist_regularization, on a tiny configuration (a few thousand samples,
# a few epochs), in a few minutes:
#   - kill -9 at random moments, then --resume until done: every file under its final name is
#     complete after each kill, and the final parameters and history are bit-identical to an
#     uninterrupted run's;
#   - SIGINT / SIGTERM at random moments: exit 130 / 143 (or 0 when it had finished), one line
#     on stderr, complete files, and the resumed run again bit-identical;
#   - a full disk (a 130 KiB tmpfs; skipped without the right to mount): exit 5, complete files;
#   - a FIFO as a data file: exit 3 at once; a memory limit (ulimit -v): exit 6 at once, also
#     with OpenBLAS's own threads;
#   - under mpirun (skipped without it): one rank's bad flags end every rank at once (exit 2),
#     and SIGINT / SIGTERM to mpirun stop every rank cleanly.
# Usage: scripts/fault_test.sh [APP [MNIST_DIR]]   (defaults: build/apps/.../mnist_regularization,
#        $XTGRAD_MNIST_DIR or data/mnist; without MNIST a synthetic IDX set of the same format is used)
#        FAULT_ROUNDS=N (default 2) interrupted runs of each kind, each stopped again and again.
set -u
cd "$(dirname "$0")/.."
app=$(realpath "${1:-build/apps/mnist_regularization/mnist_regularization}")
mnist=${2:-${XTGRAD_MNIST_DIR:-data/mnist}}
rounds=${FAULT_ROUNDS:-2}
export OPENBLAS_NUM_THREADS=1
[[ -x $app ]] || { echo "fault_test: no app at $app (build it first)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtgrad_fault.XXXXXX") || exit 1
mounted=""
cleanup() {
  [[ -n $mounted ]] && umount "$mounted" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for l in "$@"; do echo "       $l"; done; }
skip() { skipped=$((skipped + 1)); echo "skip - $1: $2"; }

if [[ ! -f $mnist/train-images-idx3-ubyte && ! -f $mnist/train-images-idx3-ubyte.gz ]]; then
  mnist="$tmp/synthetic"
  python3 - "$mnist" <<'PY'
import os, random, struct, sys
d = sys.argv[1]; os.makedirs(d); random.seed(0)
for name, n in (("train", 3000), ("t10k", 500)):
    labels = bytes(random.randrange(10) for _ in range(n))
    # each digit a bright block at its own place, plus noise: learnable, like MNIST in shape
    img = bytearray(random.randrange(64) for _ in range(n * 784))
    for i, y in enumerate(labels):
        for r in range(2 * y, 2 * y + 8):
            for c in range(10, 18):
                img[i * 784 + r * 28 + c] = 255
    open(f"{d}/{name}-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(img))
    open(f"{d}/{name}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + labels)
PY
  echo "fault_test: no MNIST at ${2:-${XTGRAD_MNIST_DIR:-data/mnist}}: using a synthetic set of the same format"
fi

base=(--data "$mnist" --train-size 2000 --reg none --reg 'l1(lambd=1e-4)' --quiet)
run=("${base[@]}" --epochs 4)

# complete DIR: every file under its final name is whole (JSON parses, CSV has its header,
# PNGs end in IEND, checkpoints are valid zip archives).
complete() {
  python3 - "$1" <<'PY'
import json, os, sys, zipfile
bad = []
for root, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if not d.startswith(".plot.")]  # scratch of a killed gnuplot
    for f in files:
        p = os.path.join(root, f)
        try:
            if f.endswith(".json"): json.load(open(p))
            elif f.endswith(".csv"): assert open(p).readline().startswith(("run,", "kind,")), "header"
            elif f.endswith(".png"):
                b = open(p, "rb").read()
                assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[-12:] == b"\0\0\0\0IEND\xaeB`\x82", "truncated"
            elif f.endswith(".npz"): assert zipfile.ZipFile(p).testzip() is None, "crc"
        except Exception as e:
            bad.append(f"{p}: {e}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# The parameters of every checkpoint in DIR and each run's epochs, as text to compare exactly.
fingerprint() {
  python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys, zipfile
ck, out = sys.argv[1:3]
for f in sorted(os.listdir(ck)):
    if f.endswith(".ckpt.npz"):
        z = zipfile.ZipFile(os.path.join(ck, f))
        for n in sorted(z.namelist()):
            if n.startswith("param/"): print(f, n, hashlib.sha256(z.read(n)).hexdigest())
for r in json.load(open(os.path.join(out, "summary.json")))["runs"]:
    print(r["reg"], r["test_accuracy"], [(e["epoch"], e["data_loss"], e["test_accuracy"]) for e in r["epochs"]])
PY
}

t0=$SECONDS ms0=$(date +%s%3N)
"$app" "${run[@]}" --checkpoint "$tmp/ref_ck" --out "$tmp/ref_out" >/dev/null 2>"$tmp/stderr"
rc=$?
if [[ $rc -ne 0 ]]; then
  fail "uninterrupted reference run" "exit $rc: $(cat "$tmp/stderr")"
  echo "$passed passed, $failed failed, $skipped skipped"
  exit 1
fi
ref=$(fingerprint "$tmp/ref_ck" "$tmp/ref_out")
span=$(($(date +%s%3N) - ms0))  # ms: kill moments are drawn over the run's length
pass "uninterrupted reference run ($((SECONDS - t0)) s)"

# interrupt_and_resume KIND SIGNAL: $rounds runs from scratch, each started with --resume and
# stopped by SIGNAL at a random moment again and again until it finishes on its own; after each
# stop every file under its final name must be complete, and the finished run must equal the
# reference bit for bit.
interrupt_and_resume() {
  local kind=$1 sig=$2 round ck out pid delay rc bad codes stops
  local code=$((128 + $(kill -l "$sig")))
  for ((round = 1; round <= rounds; round++)); do
    ck="$tmp/${kind}_${round}_ck" out="$tmp/${kind}_${round}_out" codes="" stops=0
    for ((i = 0; i < 40; i++)); do
      "$app" "${run[@]}" --checkpoint "$ck" --out "$out" --resume >/dev/null 2>"$tmp/stderr" &
      pid=$!
      # Within the first third of a run at first, a little later each time: a loaded machine
      # that starts slowly still gets past an epoch, and the run ends.
      delay=$((100 + RANDOM % (span * (i + 1) / 3 + 1)))
      sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
      kill -"$sig" "$pid" 2>/dev/null
      { wait "$pid"; } 2>/dev/null
      rc=$?
      codes+=" $rc"
      # (Before its handlers are installed, at start-up, INT and TERM end the app silently.)
      if [[ $sig != KILL && $rc -ne 0 && $rc -ne $code ]] || [[ $sig != KILL && $(grep -c '' "$tmp/stderr") -gt 1 ]]; then
        fail "$kind at ${delay} ms: exit 0 or $code, at most one line" "exit $rc: $(cat "$tmp/stderr")"
        return
      fi
      if ! bad=$(complete "$ck" 2>&1; complete "$out" 2>&1); then :; fi
      if [[ -n $bad ]]; then
        fail "$kind at ${delay} ms: only complete files under final names" "$bad"
        return
      fi
      [[ $rc -eq 0 ]] && break
      stops=$((stops + 1))
    done
    if [[ $rc -ne 0 ]]; then fail "$kind round $round: never finished (exits:$codes)"; return; fi
    if [[ $(fingerprint "$ck" "$out") == "$ref" ]]; then
      pass "$kind round $round: stopped $stops times, only complete files, then bit-identical to the uninterrupted run (exits:$codes)"
    else
      fail "$kind round $round: bit-identical to the uninterrupted run after $stops stops" \
           "$(diff <(echo "$ref") <(fingerprint "$ck" "$out") | head -n 6)"
    fi
  done
}
interrupt_and_resume kill9 KILL
interrupt_and_resume sigint INT
interrupt_and_resume sigterm TERM

# A full disk.
disk="$tmp/disk"
mkdir -p "$disk"
if mount -t tmpfs -o size=130k tmpfs "$disk" 2>/dev/null; then
  mounted=$disk
  for where in out checkpoint; do
    if [[ $where == out ]]; then args=(--out "$disk/out"); else args=(--out "$tmp/full_out" --checkpoint "$disk/ck"); fi
    # ~40 KB left: summary.json fits, the plots do not, whatever the data.
    avail=$(df --output=avail -B1 "$disk" | tail -n1)
    ((avail > 40000)) && head -c $((avail - 40000)) /dev/zero >"$disk/filler" 2>/dev/null
    "$app" "${base[@]}" --epochs 1 "${args[@]}" >/dev/null 2>"$tmp/stderr"
    rc=$?
    if [[ $rc -eq 5 ]] && grep -qi "no space left on device" "$tmp/stderr" && complete "$disk" >/dev/null; then
      pass "--$where on a full 130 KiB tmpfs: exit 5, ENOSPC named, complete files ($(cat "$tmp/stderr"))"
    else
      fail "--$where on a full 130 KiB tmpfs: exit 5, ENOSPC named, complete files" "exit $rc: $(cat "$tmp/stderr")" \
           "$(complete "$disk")"
    fi
    rm -rf "${disk:?}"/*
  done
else
  skip "full disk" "cannot mount a tmpfs (needs root)"
fi

# A FIFO as a data file and a memory limit: a clear message at once, never a hang.
fifo="$tmp/fifo_data"
mkdir -p "$fifo"
cp "$mnist"/* "$fifo"/
rm -f "$fifo"/train-labels-idx1-ubyte*
mkfifo "$fifo/train-labels-idx1-ubyte"
timeout -k 5 30 "$app" --data "$fifo" --train-size 10 --epochs 1 --out "$tmp/x" --quiet --no-plots \
  >/dev/null 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 3 ]] && grep -q FIFO "$tmp/stderr"; then pass "FIFO as a data file: exit 3 ($(cat "$tmp/stderr"))"
else fail "FIFO as a data file: exit 3" "exit $rc: $(cat "$tmp/stderr")"; fi
for limit in 100000 150000; do
  (ulimit -v "$limit" && exec timeout -k 5 60 "$app" "${run[@]}" --out "$tmp/x") >/dev/null 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 6 && $(grep -c '' "$tmp/stderr") -eq 1 ]]; then
    pass "ulimit -v $limit: exit 6 at once ($(cat "$tmp/stderr"))"
  else
    fail "ulimit -v $limit: exit 6 at once" "exit $rc: $(cat "$tmp/stderr")"
  fi
done

# Behind the up-front estimate (skipped here): OpenBLAS's buffer that cannot be had ends in the
# watchdog (30 s, exit 6), and data that cannot be had in std::bad_alloc (exit 6), never a hang.
for case in "150000 2000" "330000 60000"; do
  read -r limit size <<<"$case"
  if [[ $size -gt 2000 && $mnist == "$tmp/synthetic" ]]; then skip "ulimit -v $limit, --train-size $size" "needs MNIST"; continue; fi
  t0=$SECONDS
  (ulimit -v "$limit" && XTGRAD_NO_MEMORY_CHECK=1 exec timeout -k 5 90 "$app" --data "$mnist" --train-size "$size" \
     --epochs 1 --reg none --quiet --no-plots --out "$tmp/x") >/dev/null 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 6 && $(grep -c '' "$tmp/stderr") -eq 1 ]]; then
    pass "ulimit -v $limit, --train-size $size, no estimate: exit 6 in $((SECONDS - t0)) s ($(cat "$tmp/stderr"))"
  else
    fail "ulimit -v $limit, --train-size $size, no estimate: exit 6" "exit $rc after $((SECONDS - t0)) s: $(cat "$tmp/stderr")"
  fi
done

# OpenBLAS's own threads (OPENBLAS_NUM_THREADS unset: a pool thread per core, each taking its
# 128 MiB buffer when the library loads and retrying forever under the limit): still a prompt
# exit 6 at 150000, never a hang at exit; at 400000 the run (with its sharpness measurement)
# fits on one thread, which the default --threads (every CPU) gives way to, while an explicit
# --threads 2 is refused.
for case in "unset 150000 6" "unset 400000 0" "unset 400000 6 --threads 2" "2 150000 6" "2 400000 6"; do
  read -r threads limit want extra <<<"$case"
  [[ $threads == unset ]] && blas=(env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS -u GOTO_NUM_THREADS) ||
    blas=(env -u OMP_NUM_THREADS -u GOTO_NUM_THREADS OPENBLAS_NUM_THREADS="$threads")
  if [[ $mnist == "$tmp/synthetic" ]]; then skip "ulimit -v $limit, OPENBLAS_NUM_THREADS $threads ${extra:-}" "needs MNIST"; continue; fi
  t0=$SECONDS
  # shellcheck disable=SC2086  # $extra: zero or more words
  (ulimit -v "$limit" && exec timeout -k 5 60 "${blas[@]}" "$app" --data "$mnist" --train-size 20000 --epochs 1 \
     --reg none --quiet --no-plots --out "$tmp/x" $extra) >/dev/null 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq $want && $(grep -c '' "$tmp/stderr") -eq $((want == 0 ? 0 : 1)) ]]; then
    pass "ulimit -v $limit, OPENBLAS_NUM_THREADS $threads ${extra:-}: exit $rc in $((SECONDS - t0)) s $(head -c 160 "$tmp/stderr")"
  else
    fail "ulimit -v $limit, OPENBLAS_NUM_THREADS $threads ${extra:-}: exit $want" "exit $rc after $((SECONDS - t0)) s: $(cat "$tmp/stderr")"
  fi
done

# Under mpirun: a rank that rejects its flags ends every rank at once with that rank's code
# (2; 5 for a closed stdout, as one process), one message; SIGINT and SIGTERM to mpirun stop
# every rank cleanly (each prints its line and exits 143: mpirun sends SIGTERM for both, then
# exits 1 itself, Open MPI's code for a job it stopped).
if ! command -v mpirun >/dev/null; then
  skip "MPI cases" "no mpirun (install OpenMPI to run them)"
else
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpi=(timeout -k 5 60 mpirun --oversubscribe)
  small=(--data "$mnist" --train-size 500 --epochs 1 --reg none --quiet --no-plots --out "$tmp/mpi_out")
  # Each rank's exit code, written to $tmp/rank_R.
  cat >"$tmp/rank.sh" <<'SH'
#!/usr/bin/env bash
"$@"
rc=$?
echo "$rc" >"$RANK_DIR/rank_$OMPI_COMM_WORLD_RANK"
exit "$rc"
SH
  chmod +x "$tmp/rank.sh"
  for case in "2|--lr -1" "2|--frobnicate" "2|--help" "2|--momentum 1" "5|>&-"; do
    want=${case%%|*} bad=${case#*|}
    rm -f "$tmp"/rank_*
    second=("$tmp/rank.sh" "$app" "${small[@]}" $bad)
    [[ $bad == ">&-" ]] && second=("$tmp/rank.sh" bash -c 'exec "$@" >&-' - "$app" "${small[@]}")
    t0=$SECONDS
    RANK_DIR=$tmp "${mpi[@]}" -x RANK_DIR -np 1 "$tmp/rank.sh" "$app" "${small[@]}" : -np 1 "${second[@]}" \
      >/dev/null 2>"$tmp/stderr"
    rc=$?
    ranks="$(cat "$tmp/rank_0" 2>/dev/null || echo -) $(cat "$tmp/rank_1" 2>/dev/null || echo -)"
    lines=$(grep -c '^mnist_regularization:' "$tmp/stderr")
    # Both ranks leave the flag agreement with the code; whichever exits first makes Open MPI
    # kill the other, sometimes before its wrapper records its code ('-'). No rank can leave
    # the agreement (an allgather) before every rank has joined it, so mpirun's code and one
    # recorded rank's still prove that no rank hung (a hang ends in the timeout's 124).
    if [[ $rc -eq $want && ($ranks == "$want $want" || $ranks == "- $want" || $ranks == "$want -") && $lines -eq 1 ]]; then
      pass "mpirun, rank 1 alone with '$bad': the job exits $want in $((SECONDS - t0)) s (ranks: $ranks) ($(grep '^mnist_regularization:' "$tmp/stderr" | head -c 140))"
    else
      fail "mpirun, rank 1 alone with '$bad': every rank exits $want at once, one message" \
           "mpirun exit $rc after $((SECONDS - t0)) s, ranks exited: $ranks, $lines messages" "$(head -c 600 "$tmp/stderr")"
    fi
  done
  for sig in INT TERM; do
    rm -rf "$tmp/mpi_ck"
    mpirun --oversubscribe -np 2 "$app" --data "$mnist" --train-size 5000 --epochs 40 --reg none --quiet --no-plots \
      --checkpoint "$tmp/mpi_ck" --out "$tmp/mpi_sig" >/dev/null 2>"$tmp/stderr" &
    job=$!
    for _ in $(seq 1 600); do compgen -G "$tmp/mpi_ck/*.ckpt.npz" >/dev/null && break; sleep 0.05; done
    t0=$SECONDS
    kill -"$sig" "$job"
    while kill -0 "$job" 2>/dev/null && ((SECONDS - t0 < 60)); do sleep 0.2; done
    kill -0 "$job" 2>/dev/null && kill -9 "$job"  # a hang: fails below
    wait "$job"
    rc=$?
    stopped=$(grep -c "interrupted by SIGTERM in epoch .*mpirun sends SIGTERM to every rank for a Ctrl-C too" "$tmp/stderr")
    if [[ $rc -eq 1 && $stopped -eq 2 ]] && ! ls "$tmp/mpi_ck"/*.tmp >/dev/null 2>&1 && complete "$tmp/mpi_ck" >/dev/null; then
      pass "SIG$sig to mpirun: both ranks stopped with their line, mpirun exit 1 in $((SECONDS - t0)) s, complete checkpoints"
    else
      fail "SIG$sig to mpirun: both ranks stop with their line, mpirun exit 1" \
           "exit $rc after $((SECONDS - t0)) s, $stopped ranks reported the stop" "$(head -c 600 "$tmp/stderr")"
    fi
  done
fi

echo "fault_test: $passed passed, $failed failed, $skipped skipped in $SECONDS s"
[[ $failed -eq 0 ]]
