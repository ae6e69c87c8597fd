#!/usr/bin/env bash
# Entrypoint of the in-cluster GitHub Actions runner. The registration (.runner and the
# credential files) lives on the persistent volume, so a restarted pod resumes as the same
# runner without a new registration token (D27). Only the very first start, or a start after
# the volume was wiped, consumes the short-lived token from the Secret.
set -euo pipefail

persist=/home/runner/_persist
state="$persist/state"
mkdir -p "$state" "$persist/work" "$persist/toolcache"
cd /home/runner

files=(.runner .credentials .credentials_rsaparams)
if [ -f "$state/.runner" ]; then
  for f in "${files[@]}"; do cp "$state/$f" "./$f"; done
  echo "resuming as the registered runner $RUNNER_NAME"
else
  if [ -z "${RUNNER_TOKEN:-}" ]; then
    echo "error: no stored registration and no registration token; re-run the github-runner playbook" >&2
    exit 1
  fi
  ./config.sh --unattended --replace \
    --url "$RUNNER_URL" --token "$RUNNER_TOKEN" \
    --name "$RUNNER_NAME" --labels "$RUNNER_LABELS" \
    --work "$persist/work"
  for f in "${files[@]}"; do cp "./$f" "$state/$f"; done
  chmod 600 "$state"/.credentials*
fi

# exec: the runner becomes PID 1 and receives SIGTERM itself, finishing or cancelling the
# current job cleanly.
exec ./run.sh
