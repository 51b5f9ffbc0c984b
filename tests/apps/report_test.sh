#!/usr/bin/env bash
# --report end to end: a short run writes report.html; the page must be self-contained (no
# network address, every image inline), must render in headless Chromium without a console
# error, and its screenshot must not be blank. A planted page with a script error must be
# caught by the same console check, so the check itself can fail.
# Usage: report_test.sh APP_BINARY MNIST_DIR
# Without chromium or MNIST the test is skipped (exit 77), except under CI=true, where it fails.
set -euo pipefail
app=$1
mnist=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "report_test: FAIL: $*" >&2; exit 1; }

if [[ ! -f $mnist/train-images-idx3-ubyte && ! -f $mnist/train-images-idx3-ubyte.gz ]]; then
  [[ ${CI:-} == true ]] && fail "no MNIST in $mnist (scripts/fetch_mnist.sh fetches it)"
  echo "report_test: skipped: no MNIST in $mnist"
  exit 77
fi
browser=""
for b in chromium chromium-browser; do command -v "$b" >/dev/null 2>&1 && browser=$b && break; done
if [[ -z $browser ]]; then
  [[ ${CI:-} == true ]] && fail "chromium is not installed (scripts/install_deps.sh --test installs it)"
  echo "report_test: skipped: chromium is not installed (apt-get install chromium)"
  exit 77
fi

# Renders $1 (an HTML file) to $2 (a PNG) and leaves Chromium's log in $2.log.
render() {
  # --no-sandbox: the suite may run as root (CI), where Chromium's sandbox refuses to start.
  # A fresh profile per page keeps runs independent of each other and of the user's.
  "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$tmp/profile-$(basename "$2")" --enable-logging=stderr --v=0 \
    --window-size=1200,1800 --screenshot="$2" "file://$1" >"$2.log" 2>&1 ||
    fail "$browser exited $? on $1; its log: $(tail -5 "$2.log")"
  [[ -s $2 ]] || fail "$browser wrote no screenshot of $1"
}

# Console messages: Chromium logs each one (errors, uncaught exceptions, refused loads) as a
# CONSOLE line. The report has no script of its own, so any message at all is a fault.
console_errors() { grep -E ':CONSOLE[:(]|Uncaught' "$1" || true; }

# Whether a screenshot shows something: decodes an 8-bit RGB/RGBA PNG with Python's standard
# library and asks for at least 1 % of the pixels not white and at least 50 distinct colours.
not_blank() { /usr/bin/env python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth {depth} colour {colour}"
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride = zlib.decompress(idat), width * bpp
rows, prev = [], bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
pixels = [r[i:i + 3] for r in rows for i in range(0, stride, bpp)]
non_white = sum(p != b"\xff\xff\xff" for p in pixels) / len(pixels)
colours = len(set(pixels))
print(f"report_test: screenshot {width}x{height}: {non_white:.1%} not white, {colours} colours")
sys.exit(0 if non_white >= 0.01 and colours >= 50 else 1)
EOF
}

# 1. The run and its page.
out=$tmp/out
OPENBLAS_NUM_THREADS=1 "$app" --data "$mnist" --train-size 600 --epochs 2 --hidden 32 \
  --reg none --reg 'l1(lambd=1e-4)' --eval-fgsm 0.1 --report --quiet --out "$out" >"$tmp/app.log" 2>&1 ||
  fail "the app exited $?: $(tail -5 "$tmp/app.log")"
page=$out/report.html
[[ -s $page ]] || fail "no report.html in $out"
grep -q 'report.html' "$tmp/app.log" || fail "the app did not list report.html among what it wrote"
grep -qiE '(src|href)="(https?:)?//' "$page" && fail "report.html refers to the network"
grep -oE 'src="[^"]{0,12}' "$page" | grep -v 'src="data:image/' && fail "report.html has an image that is not inline"
images=$(grep -o 'src="data:image/png;base64,' "$page" | wc -l)
((images >= 5)) || fail "report.html embeds $images plots, expected loss, weights, pixels, reliability and fgsm"
for field in test_accuracy 'l1(lambd=1e-4)' '&epsilon; = 0.1'; do
  grep -qF "$field" "$page" || fail "report.html lacks '$field'"
done

# 2. It renders, without console errors, and not blank.
render "$page" "$tmp/report.png"
errors=$(console_errors "$tmp/report.png.log")
[[ -z $errors ]] || fail "console errors while rendering report.html: $errors"
not_blank "$tmp/report.png" || fail "the screenshot of report.html looks blank"

# 3. The console check catches a page with a script error and a console.error.
cat >"$tmp/broken.html" <<'EOF'
<!DOCTYPE html><html><body><p>planted</p>
<script>console.error("planted console error"); undefined_function();</script></body></html>
EOF
render "$tmp/broken.html" "$tmp/broken.png"
[[ -n $(console_errors "$tmp/broken.png.log") ]] || fail "the console check missed a planted script error"
# ... and the blank check a page with one word on it.
not_blank "$tmp/broken.png" && fail "the blank check passed a page with one word on it"

# 4. With --no-plots the page still has the tables and no images.
OPENBLAS_NUM_THREADS=1 "$app" --data "$mnist" --train-size 300 --epochs 1 --hidden 16 --reg none --no-plots \
  --report --quiet --out "$tmp/plain" >"$tmp/plain.log" 2>&1 || fail "the --no-plots run exited $?"
grep -q '<img' "$tmp/plain/report.html" && fail "--no-plots still embedded images"
grep -qF 'test_accuracy' "$tmp/plain/report.html" || fail "--no-plots report lacks the runs table"
echo "report_test: ok ($images plots inline, renders without console errors, planted faults caught)"
