"""The environment arq's runtime proof runs in (`tests/test_messaging_runtime.py`).

Every arq release (0.28.0, the last, included) pins `redis<6`; the test extra has redis-py 8, which rq, huey,
celery and taskiq-redis need. So arq runs in a virtualenv of its own, `.venv-arq/` at the checkout's root,
with its own redis-py and the OpenTelemetry SDK (`tests/requirements-arq.txt`): proplint itself never
runs there, only the proof's producer and worker. `scripts/test.sh` builds it before the tests; the proof
builds it too when it is missing (running pytest directly). It is rebuilt when the requirements change.

Standard library only: `python tests/arq_env.py` prints the environment's interpreter.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "tests" / "requirements-arq.txt"
#: overridable for a checkout whose root is read-only
ENV_DIR = Path(os.environ.get("PROPLINT_ARQ_VENV", ROOT / ".venv-arq"))


def _stamp() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def python() -> Path:
    return ENV_DIR / "bin" / "python"


def ensure() -> Path:
    """The environment's interpreter, building (or rebuilding) the environment when needed. Raises
    `RuntimeError` with pip's output when the install fails."""
    stamp_file = ENV_DIR / "requirements.sha256"
    if python().is_file() and stamp_file.is_file() and stamp_file.read_text().strip() == _stamp():
        return python()
    venv.EnvBuilder(with_pip=True, clear=True).create(ENV_DIR)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    proc = subprocess.run([str(python()), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "-r", str(REQUIREMENTS)], capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"installing {REQUIREMENTS.name} into {ENV_DIR} failed:\n{proc.stdout}\n{proc.stderr}")
    stamp_file.write_text(_stamp() + "\n")
    return python()


if __name__ == "__main__":
    try:
        print(ensure())
    except RuntimeError as exc:
        sys.exit(str(exc))
