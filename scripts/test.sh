#!/usr/bin/env bash
# The test command (README, "Set up"): installs what the tests need, then runs every check.
#   - the package with its pinned test extras (SDKs, moto's S3 server, pytest, ruff, mypy)
#   - Azurite 3.35.0 (the newest that runs on Node 20) into .test-tools/, for the Azure tests
#   - Debian's openssh-server (/usr/sbin/sshd), if missing, for the SFTP tests of store-fsspec
# The tests start and stop the emulators themselves, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"
npm install --no-save --no-audit --no-fund --silent --prefix .test-tools azurite@3.35.0
command -v /usr/sbin/sshd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server; }

python -m ruff check src tests benchmarks examples
python -m mypy
# Three test processes on two cores: most tests wait (on timeouts, retries' backoff and the
# servers), so the suite takes a third of the time it takes in one process. "-n 0" runs it
# in one process (e.g. with -s, to see the fault matrix's tables).
python -m pytest -n "${XTSTORE_TEST_PROCESSES:-3}" "$@"
