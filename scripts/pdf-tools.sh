#!/usr/bin/env bash
# Debian's poppler-utils (pdftotext, pdftoppm): the report tests turn the PDFs the service
# renders into text and check what a reader would search for. Installed with apt-get when
# missing, which needs root (CI runs as root; elsewhere run
# `sudo apt-get install -y poppler-utils` once).
set -euo pipefail
if command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "pdftotext is missing: install Debian's poppler-utils (sudo apt-get install -y poppler-utils)" >&2
    exit 1
fi
echo "== installing Debian's poppler-utils"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
