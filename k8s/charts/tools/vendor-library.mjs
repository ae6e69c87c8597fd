#!/usr/bin/env node
// Vendors the auditflow-common library chart into every AuditFlow chart as
// charts/auditflow-common-<version>.tgz, the file `helm dependency build` would place there,
// so every chart renders offline and on its own without a chart repository; and copies the
// files a chart ships from the sources (VENDORED_FILES: the default rules), so they have one home.
//
//   node k8s/charts/tools/vendor-library.mjs          package the library into every chart
//   node k8s/charts/tools/vendor-library.mjs --check  exit 1 when a vendored copy is stale
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checking, failIfOutOfDate, writeOrCheck } from '../../../scripts/lib/generated-file.mjs';

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
  const command = 'node k8s/charts/tools/vendor-library.mjs';
  // An archive is compared by the files it packs (helm package is not byte-reproducible), so
  // the archives are checked and rebuilt here; the plain copies are written by writeOrCheck.
  const staleArchives = consumers()
    .filter((dir) => !isCurrent(dir))
    .map((dir) => join(dir, 'charts', archive));
  if (checking()) {
    failIfOutOfDate([...staleArchives, ...staleCopies().map(([, copy]) => join(repoRoot, copy))], command);
  } else {
    for (const tgz of staleArchives) {
      const charts = dirname(tgz);
      mkdirSync(charts, { recursive: true });
      for (const old of readdirSync(charts).filter((f) => /^auditflow-common-.*\.tgz$/.test(f))) rmSync(join(charts, old));
      execFileSync(helm, ['package', library, '--destination', charts], { stdio: ['ignore', 'ignore', 'inherit'] });
      console.log(`vendored ${relative(chartsRoot, tgz)}`);
    }
    writeOrCheck(
      VENDORED_FILES.map(([source, copy]) => ({ path: join(repoRoot, copy), content: readFileSync(join(repoRoot, source)) })),
      { command, check: false },
    );
  }
}
