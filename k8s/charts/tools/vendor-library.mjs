#!/usr/bin/env node
// Vendors the auditflow-common library chart into every AuditFlow chart as
// charts/auditflow-common-<version>.tgz, the file `helm dependency build` would place there,
// so every chart renders offline and on its own without a chart repository; and copies the
// files a chart ships from the sources (VENDORED_FILES: the default rules), so they have one home.
//
//   node k8s/charts/tools/vendor-library.mjs          package the library into every chart
//   node k8s/charts/tools/vendor-library.mjs --check  exit 1 when a vendored copy is stale
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const chartsRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const library = join(chartsRoot, 'auditflow-common');
const umbrella = join(chartsRoot, 'auditflow-platform');
const helm = process.env.HELM_BIN ?? join(chartsRoot, '..', '..', '.tools', 'bin', 'helm');
const version = parse(readFileSync(join(library, 'Chart.yaml'), 'utf8')).version;
const archive = `auditflow-common-${version}.tgz`;
const repoRoot = join(chartsRoot, '..', '..');

/** [source in the repository, copy in a chart]: the chart ships the source's bytes. */
export const VENDORED_FILES = [['src/audit-log-analysis/rules/default.yaml', 'k8s/charts/auditflow-platform/charts/audit-log-analysis/files/rules.yaml']];

/** The vendored copies whose bytes differ from their source. */
export function staleCopies() {
  return VENDORED_FILES.filter(([source, copy]) => !existsSync(join(repoRoot, copy)) || readFileSync(join(repoRoot, copy), 'utf8') !== readFileSync(join(repoRoot, source), 'utf8'));
}

/** Every chart that declares the library as a dependency. */
export function consumers() {
  const dirs = [umbrella, ...readdirSync(join(umbrella, 'charts'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(umbrella, 'charts', d.name))];
  return dirs.filter((dir) => {
    const chart = existsSync(join(dir, 'Chart.yaml')) ? parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) : {};
    return (chart.dependencies ?? []).some((d) => d.name === 'auditflow-common');
  });
}

function files(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
      // helm package rewrites Chart.yaml (key order, line folding): compare its meaning.
      if (relative(dir, p) === 'Chart.yaml') {
        const meta = parse(out['Chart.yaml']);
        out['Chart.yaml'] = JSON.stringify(Object.keys(meta).sort().map((k) => [k, meta[k]]));
      }
    }
  };
  walk(dir);
  return out;
}

/** Whether the chart's vendored archive holds exactly the library's current files. */
export function isCurrent(chartDir) {
  const tgz = join(chartDir, 'charts', archive);
  if (!existsSync(tgz)) return false;
  const tmp = mkdtempSync(join(tmpdir(), 'af-lib-'));
  try {
    execFileSync('tar', ['-xzf', tgz, '-C', tmp]);
    const packed = files(join(tmp, 'auditflow-common'));
    const source = files(library);
    delete source['.helmignore'];
    delete packed['.helmignore'];
    return JSON.stringify(Object.entries(packed).sort()) === JSON.stringify(Object.entries(source).sort());
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const dir of consumers()) {
    if (isCurrent(dir)) continue;
    if (check) {
      console.error(`stale: ${relative(chartsRoot, join(dir, 'charts', archive))}`);
      stale++;
      continue;
    }
    mkdirSync(join(dir, 'charts'), { recursive: true });
    for (const old of readdirSync(join(dir, 'charts')).filter((f) => /^auditflow-common-.*\.tgz$/.test(f))) rmSync(join(dir, 'charts', old));
    execFileSync(helm, ['package', library, '--destination', join(dir, 'charts')], { stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`vendored ${relative(chartsRoot, join(dir, 'charts', archive))}`);
  }
  for (const [source, copy] of staleCopies()) {
    if (check) {
      console.error(`stale: ${copy} (copy of ${source})`);
      stale++;
      continue;
    }
    writeFileSync(join(repoRoot, copy), readFileSync(join(repoRoot, source)));
    console.log(`copied ${source} to ${copy}`);
  }
  if (stale) process.exit(1);
}
