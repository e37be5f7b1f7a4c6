#!/usr/bin/env bash
# Install openai-datacontrols ($DC_PACKAGE: a pip requirement, a wheel path or a git URL) into its own virtual
# environment, apart from the repository's, and put `reconcile` on the job's PATH.
set -euo pipefail
venv="${RUNNER_TEMP:-/tmp}/openai-datacontrols"
python -m venv "$venv"
if command -v uv > /dev/null 2>&1; then
  uv pip install --quiet --python "$venv/bin/python" "$DC_PACKAGE"
else
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$DC_PACKAGE"
fi
echo "$venv/bin" >> "$GITHUB_PATH"
"$venv/bin/reconcile" --version
