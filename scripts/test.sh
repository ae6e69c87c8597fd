#!/usr/bin/env bash
# The whole test suite: installs and starts what it needs, then lint,
# typecheck, build and every test (unit, integration against the real servers,
# browser, Kubernetes, delivery and monitoring checks).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-tools.sh
bash scripts/ensure-services.sh
# The image and release tests need the container engine; as root it is started here.
bash scripts/ensure-docker.sh || echo "warning: no container engine; the image and release tests will skip" >&2

export PATH="$PWD/node_modules/.bin:$PWD/.tools/bin:$PATH"
echo "node $(node --version)"

npm run lint --silent
npm run typecheck --silent
npm run build --silent

mapfile -t files < <(find src/*/test tests -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
node --conditions=source --test --test-concurrency=2 --test-timeout=600000 "$@" "${files[@]}"
