#!/usr/bin/env bash
# Build one venv per peer next to this script, from its pinned requirements file.
# Usage: bash benchmarks/peers/make_envs.sh [coles] [featuretools]   (default: both)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(coles featuretools)
for peer in "${peers[@]}"; do
  req="$here/requirements-$peer.txt"
  venv="$here/.venv-$peer"
  [ -f "$req" ] || { echo "no $req" >&2; exit 1; }
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  if [ "$peer" = coles ]; then
    # torch first, pinned, so the peer's own torch requirement cannot pull a CUDA build
    "$venv/bin/python" -m pip install -q "$(grep -E '^torch==' "$req")"
  fi
  "$venv/bin/python" -m pip install -q -r "$req"
  echo "built $venv"
done
