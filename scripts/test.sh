#!/usr/bin/env bash
# Installs everything the test suite needs (Python packages and the real servers the runtime proofs
# talk to) and runs it. `.ci/run` runs exactly this. Safe to run again: steps already done are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# Debian packages for the runtime proofs (real brokers on 127.0.0.1). Installed only when missing.
APT_PACKAGES=(git redis-server mosquitto nats-server)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"

# arq's runtime proof runs in an environment of its own (every arq release pins redis<6; the test extra has
# redis-py 8): tests/arq_env.py builds .venv-arq/ from tests/requirements-arq.txt, again only when they change.
"$VENV/bin/python" tests/arq_env.py > /dev/null

# The pinned benchmark corpus (~1M lines from PyPI, 37 MB once): tests/test_corpus_exact.py proves the
# prefilter exact on it. Skipped when already fetched.
"$VENV/bin/python" benchmarks/fetch_corpus.py > /dev/null

# pytest exits 5 when it collects nothing: that is a failure here, not a pass.
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
