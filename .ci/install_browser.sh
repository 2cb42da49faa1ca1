#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages) for the browser tests
# (tests/test_browser.py: the built book; tests/test_jupyterlab.py: the chapters in JupyterLab).
# Idempotent and quiet: does nothing when both are already installed. Needs root (or sudo).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo -n"; else
    echo "[install_browser] not root and no sudo: cannot install chromium; browser tests will skip." >&2
    exit 0
  fi
fi
if ! have apt-get; then
  echo "[install_browser] no apt-get on this machine: install chromium + chromedriver by hand; browser tests will skip." >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "[install_browser] installing chromium and chromium-driver (apt)"
log=$(mktemp)
if $SUDO apt-get update -qq >"$log" 2>&1 && $SUDO apt-get install -y -qq chromium chromium-driver >>"$log" 2>&1; then
  chromium --version
else
  # Not fatal: the browser tests then skip, saying that Chromium is missing.
  echo "[install_browser] apt-get failed; browser tests will skip. Last lines:" >&2
  tail -5 "$log" >&2
fi
rm -f "$log"
