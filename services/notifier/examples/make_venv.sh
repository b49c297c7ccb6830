#!/usr/bin/env bash
# Creates (once) the Python venv the webhook receiver example runs in, with `standardwebhooks`
# from PyPI: what the tests use to check Gatehouse's signatures with an implementation nobody here
# wrote. Usage: make_venv.sh DIR
set -euo pipefail
dir=${1:?usage: make_venv.sh DIR}
if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check 'standardwebhooks==1.1.0'
"$dir/bin/python" -c 'import standardwebhooks'
