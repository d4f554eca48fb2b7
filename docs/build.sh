#!/usr/bin/env bash
# Build the docs site with warnings as errors; the gallery tutorials are executed.
# Usage: bash docs/build.sh [extra sphinx options]
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
python -m sphinx -W --keep-going -b html "$@" docs docs/_build/html
echo "docs: docs/_build/html/index.html"
