#!/usr/bin/env node
/**
 * What a user gets from npm: packs every published package (`pnpm pack` turns `workspace:` ranges
 * into versions), installs the tarballs into an empty project with npm (lifecycle scripts off:
 * onnxruntime-node ships its CPU binaries; better-sqlite3, which only `serve` needs, stays unbuilt),
 * then runs the installed CLI: `--version` and a predict with the 80-nt OpenSpliceAI set, compared
 * with the workspace CLI's output; `--backend tfjs` refused by name, then working once TensorFlow.js
 * is installed beside it. Fails when a runtime is installed twice, when TensorFlow.js is installed
 * without being asked for, when core alone brings more than zod (an adapter peers on it), or when
 * the installed CLI disagrees with the workspace one.
 * Needs `pnpm build` first and the npm registry. Usage: node scripts/pack-install.mjs [--keep]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const modelsDir = resolve(repo, process.env.METASPLICEAI_MODELS_DIR ?? '../shared/models');
const keep = process.argv.includes('--keep');
// A fixed 200-nt sequence with GT/AG sites; the 80-nt set scores every position of it.
const SEQUENCE =
  'CTGACCTTGGTCAGGTAAGTATCCTTTCTAACTGCAGGCTTGATCATGAACCCAGGTACGTGTTTGGCCTCAGCAGGTGAGCAACTTTCAGGTTCAGGAAATGGGTGCCTGTTTTCCCTCCAGGTTCTCTGTACGGAGCAGGCTAAGGTATGGGCCTGTGCTTCCCTGTTTTAGGTGAAGCAGCTGTTAAGGTGAGTGGACC';
const RUNTIMES = ['onnxruntime-node', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node'];

function fail(message) {
  console.error(`pack-install: ${message}`);
  process.exitCode = 1;
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

/** Every installed copy of a package under `root`, as paths relative to the project. */
function copiesOf(root, name, project = root, found = []) {
  if (!existsSync(root)) return found;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const dir = join(root, entry.name);
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(dir, { withFileTypes: true })) {
        if (scoped.isDirectory()) visit(join(dir, scoped.name), `${entry.name}/${scoped.name}`);
      }
    } else visit(dir, entry.name);
  }
  return found;

  function visit(dir, id) {
    if (id === name && existsSync(join(dir, 'package.json'))) found.push(relative(project, dir));
    copiesOf(join(dir, 'node_modules'), name, project, found);
  }
}

/** Tab-separated rows of a predict, numbers parsed; the header is kept as text. */
function rows(tsv) {
  const [header, ...lines] = tsv.trim().split('\n');
  return { header, lines: lines.map((line) => line.split('\t')) };
}

const published = readdirSync(join(repo, 'packages'))
  .map((dir) => ({ dir: join(repo, 'packages', dir), pkg: JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);
const work = mkdtempSync(join(tmpdir(), 'metaspliceai-pack-'));
try {
  const tarballs = join(work, 'tarballs');
  for (const { dir, pkg } of published) {
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${pkg.name} has no dist: run pnpm build first`);
    run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  }
  const files = readdirSync(tarballs)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(tarballs, f));
  console.log(`packed ${files.length} packages: ${published.map(({ pkg }) => pkg.name).join(', ')}`);

  // An adapter peers on core alone: installing it brings zod and nothing of the genome side.
  const adapterProject = join(work, 'core-alone');
  run('mkdir', ['-p', adapterProject]);
  writeFileSync(join(adapterProject, 'package.json'), JSON.stringify({ name: 'core-alone-check', private: true }, null, 2));
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', files.find((f) => /metaspliceai-core-[^/]*\.tgz$/.test(f))], {
    cwd: adapterProject,
  });
  const coreTree = readdirSync(join(adapterProject, 'node_modules'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .flatMap((e) => (e.name.startsWith('@') ? readdirSync(join(adapterProject, 'node_modules', e.name)).map((n) => `${e.name}/${n}`) : [e.name]));
  console.log(`@metaspliceai/core alone installs: ${coreTree.join(', ')}`);
  if (coreTree.sort().join() !== '@metaspliceai/core,zod') fail(`@metaspliceai/core should install only zod, installed ${coreTree.join(', ')}`);

  const project = join(work, 'project');
  run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-install-check', private: true, type: 'module' }, null, 2));
  const started = Date.now();
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: project });
  console.log(
    `npm install: ${((Date.now() - started) / 1000).toFixed(1)} s, node_modules ${run('du', ['-sh', 'node_modules'], { cwd: project }).split('\t')[0]}`,
  );

  for (const name of RUNTIMES) {
    const copies = copiesOf(join(project, 'node_modules'), name, project);
    const expected = name === 'onnxruntime-node' ? 1 : 0;
    console.log(`${name}: ${copies.length} ${copies.length === 1 ? 'copy' : 'copies'}${copies.length ? ` (${copies.join(', ')})` : ''}`);
    if (copies.length !== expected) fail(`expected ${expected} of ${name}, found ${copies.length}`);
  }
  for (const { pkg } of published) {
    const copies = copiesOf(join(project, 'node_modules'), pkg.name, project);
    if (copies.length !== 1) fail(`expected one ${pkg.name}, found ${copies.length}: ${copies.join(', ')}`);
  }

  const cliVersion = published.find(({ pkg }) => pkg.name === '@metaspliceai/cli').pkg.version;
  const version = run('npx', ['--no-install', 'metaspliceai', '--version'], { cwd: project }).trim();
  console.log(`npx metaspliceai --version: ${version}`);
  if (version !== cliVersion) fail(`--version printed ${JSON.stringify(version)}, expected ${cliVersion}`);

  const predict = [
    'predict',
    '--model',
    'openspliceai',
    '--set',
    'openspliceai-mane',
    '--context',
    '80',
    '--sequence',
    SEQUENCE,
    '--models-dir',
    modelsDir,
    '--quiet',
  ];
  const installed = rows(run('npx', ['--no-install', 'metaspliceai', ...predict], { cwd: project }));
  const workspace = rows(run(process.execPath, [join(repo, 'packages/cli/dist/bin.js'), ...predict], { cwd: repo }));
  let worst = 0;
  if (installed.header !== workspace.header) fail(`predict header ${installed.header} differs from the workspace's ${workspace.header}`);
  if (installed.lines.length !== SEQUENCE.length) fail(`predict gave ${installed.lines.length} rows for ${SEQUENCE.length} positions`);
  for (let i = 0; i < Math.min(installed.lines.length, workspace.lines.length); i++) {
    installed.lines[i].forEach((cell, j) => {
      const a = Number(cell);
      const b = Number(workspace.lines[i][j]);
      if (Number.isNaN(a) || Number.isNaN(b)) {
        if (cell !== workspace.lines[i][j]) fail(`row ${i + 1}: ${cell} vs ${workspace.lines[i][j]}`);
      } else worst = Math.max(worst, Math.abs(a - b));
    });
  }
  console.log(
    `predict (openspliceai-mane 80 nt, ${SEQUENCE.length} nt): ${installed.lines.length} rows, largest difference from the workspace CLI ${worst.toExponential(2)}`,
  );
  if (worst > 1e-5) fail(`the installed CLI's probabilities differ from the workspace's by ${worst}`);

  // TensorFlow.js is opt-in: asking for it without installing it is a one-line error naming the package.
  const tfjs = spawnSync(
    'npx',
    ['--no-install', 'metaspliceai', 'predict', '--model', 'spliceai', '--backend', 'tfjs', '--sequence', 'ACGT', '--models-dir', modelsDir, '--quiet'],
    { cwd: project, encoding: 'utf8' },
  );
  console.log(`--backend tfjs without TensorFlow.js: exit ${tfjs.status}, ${tfjs.stderr.trim().split('\n')[0]}`);
  if (tfjs.status === 0 || !tfjs.stderr.includes('@tensorflow/tfjs-core') || tfjs.stderr.includes('    at '))
    fail(`--backend tfjs without TensorFlow.js should fail naming @tensorflow/tfjs-core, without a stack trace:\n${tfjs.stderr}`);

  // ...and installing it beside the CLI is all it takes: the same numbers as the workspace's tfjs run.
  const tfjsVersion = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).devDependencies['@tensorflow/tfjs-core'];
  run(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `@tensorflow/tfjs-core@${tfjsVersion}`,
      `@tensorflow/tfjs-backend-wasm@${tfjsVersion}`,
    ],
    { cwd: project },
  );
  const onTfjs = ['predict', '--model', 'spliceai', '--backend', 'tfjs', '--sequence', SEQUENCE, '--models-dir', modelsDir, '--quiet'];
  const tfjsInstalled = run('npx', ['--no-install', 'metaspliceai', ...onTfjs], { cwd: project });
  const tfjsWorkspace = run(process.execPath, [join(repo, 'packages/cli/dist/bin.js'), ...onTfjs], { cwd: repo });
  console.log(
    `--backend tfjs after npm install @tensorflow/tfjs-core @tensorflow/tfjs-backend-wasm: ${rows(tfjsInstalled).lines.length} rows, ${tfjsInstalled === tfjsWorkspace ? 'identical to' : 'DIFFERENT from'} the workspace CLI`,
  );
  if (tfjsInstalled !== tfjsWorkspace) fail('the installed CLI on TensorFlow.js differs from the workspace CLI');
  const ortCopies = copiesOf(join(project, 'node_modules'), 'onnxruntime-node', project);
  if (ortCopies.length !== 1) fail(`after adding TensorFlow.js: ${ortCopies.length} copies of onnxruntime-node`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (!process.exitCode) console.log('pack-install: ok');
