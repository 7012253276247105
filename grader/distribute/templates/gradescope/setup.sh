#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, to build the image.
# It installs Python 3.11+ with venv, bubblewrap (the grading sandbox, used where
# the container allows it) and the kit into /autograder/venv.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive

apt-get update -q
apt-get install -y -q --no-install-recommends ca-certificates bubblewrap util-linux

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && new_enough "$candidate"; then
    PY="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$PY" ]; then
  apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
  PY="$(command -v python3.11)"
fi
VERSION="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# Debian and Ubuntu keep venv (ensurepip) in a package of its own.
apt-get install -y -q --no-install-recommends "python$VERSION-venv" || true

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# CPU builds of PyTorch: Gradescope's graders have no GPU.
"$VENV/bin/python" -m pip install -q --extra-index-url https://download.pytorch.org/whl/cpu \
  -e "$HERE/kit"
cd "$HERE/kit" && "$VENV/bin/python" -m grader data verify
