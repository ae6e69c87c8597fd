#!/usr/bin/env bash
# The whole test suite: installs and starts what it needs, then lint,
# typecheck, build and every test (unit, integration against the real servers,
# browser, Kubernetes, delivery and monitoring checks).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-tools.sh
bash scripts/ensure-services.sh

export PATH="$PWD/node_modules/.bin:$PWD/.tools/bin:$PATH"
echo "node $(node --version)"

npm run lint --silent
npm run typecheck --silent
npm run build --silent

mapfile -t files < <(find src/*/test tests -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
node --conditions=source --test --test-concurrency=2 --test-timeout=600000 "$@" "${files[@]}"
