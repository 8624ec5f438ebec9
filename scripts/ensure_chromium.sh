#!/bin/sh
# Make sure a headless Chromium is available for the HTML report tests (tests/report/test_browser.py).
#
# Prints the path of the browser and exits 0 when one is there or could be installed (Debian's
# `chromium` package, with apt-get, when run as root or with passwordless sudo). When it cannot,
# it says why and exits 0 anyway: the browser tests then skip with a clear reason, so `make test`
# still runs everything else. Set RTSCOPE_CHROMIUM to use a browser at another path.
set -u

find_browser() {
    for candidate in "${RTSCOPE_CHROMIUM:-}" chromium chromium-browser google-chrome-stable google-chrome; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if path=$(find_browser); then
    echo "ensure_chromium: using $path"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no chromium found and no apt-get here; install Chromium (or set" \
         "RTSCOPE_CHROMIUM=/path/to/chrome) to run the HTML report browser tests; they will skip." >&2
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_chromium: no chromium found and not root; run 'sudo apt-get install chromium'" \
         "to run the HTML report browser tests; they will skip." >&2
    exit 0
fi

echo "ensure_chromium: installing Debian's chromium package with apt-get…" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends chromium >&2; then
    # The package lists may be missing or stale on a fresh machine: refresh once and retry.
    $SUDO apt-get update -q >&2 || true
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends chromium >&2; then
        echo "ensure_chromium: apt-get could not install chromium; the HTML report browser" \
             "tests will skip." >&2
        exit 0
    fi
fi

if path=$(find_browser); then
    echo "ensure_chromium: using $path"
else
    echo "ensure_chromium: chromium was installed but is not on PATH; browser tests will skip." >&2
fi
exit 0
