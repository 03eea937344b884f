import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { type DiscoveryResult, type HealthReport, type ModelSet, ModelNotFoundError, modelSetKey } from '@metaspliceai/core';
import { type GlobalOptions, managerFor, modelFlags } from '../context.js';
import { type CliIO, writeLine } from '../output/io.js';
import { table } from '../output/table.js';
import { registerPullCommand } from './pull.js';

interface SetOptions extends GlobalOptions {
  set?: string;
  context?: string;
  backend?: string;
  device?: string;
  golden?: boolean;
  checksums?: boolean;
}

/** A set as scripts see it in --json output. */
function setJson(set: ModelSet) {
  return {
    adapter: set.adapter,
    name: set.name,
    context: set.context,
    directory: set.directory,
    files: set.files,
    members: set.members.map((m) => ({
      memberId: m.memberId,
      path: m.path,
      size: m.size,
      context: m.context,
      ...(m.error ? { error: m.error } : {}),
    })),
    architecture: set.architecture,
    parameterCount: set.parameterCount,
    license: set.license,
    metadata: set.metadata ? set.metadataPath : undefined,
    ...(set.metadataError ? { metadataError: set.metadataError } : {}),
  };
}

export function registerModelsCommands(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  const models = program.command('models').description('list, show, validate, check, index and pull base models');
  const common = (cmd: Command) =>
    cmd
      .option('--models-dir <dir>', 'the models folder (default: data/models, metaspliceai.config.json, or $METASPLICEAI_MODELS_DIR)')
      .option('--adapter <module...>', 'also register a third-party adapter (package name or path)')
      .option('--json', 'machine-readable output');
  const pick = (cmd: Command) =>
    cmd.option('--set <name>', 'the model set (e.g. openspliceai-mane)').option('--context <n>', 'the context window in nt (e.g. 10000)');

  common(models.command('list').description('list the model sets found under the models folder')).action((opts: GlobalOptions) =>
    run(async () => {
      const manager = await managerFor(opts, io);
      const found = await manager.discover();
      if (opts.json) {
        writeLine(
          io.stdout,
          JSON.stringify({ root: found.root, modelSets: found.modelSets.map(setJson), metaModels: found.metaModels, problems: found.problems }),
        );
        return 0;
      }
      printList(found, io);
      return 0;
    }),
  );

  pick(common(models.command('show <adapter>').description('show one model set: members, context, parameters, metadata, licence'))).action(
    (adapter: string, opts: SetOptions) =>
      run(async () => {
        const manager = await managerFor(opts, io);
        const set = await manager.resolve({ adapter, setName: opts.set, context: modelFlags(opts).context });
        if (opts.json) {
          writeLine(io.stdout, JSON.stringify({ modelSet: setJson(set), metadataFile: set.metadataPath, info: set.metadata ?? null }));
          return 0;
        }
        const info = set.metadata;
        const lines: [string, string][] = [
          ['set', modelSetKey(set)],
          ['adapter', manager.adapter(set.adapter).displayName],
          ['context', `${set.context} nt (${set.context / 2} on each side)`],
          ['architecture', set.architecture ?? 'unknown'],
          ['parameters', set.parameterCount ? `${set.parameterCount.toLocaleString('en-US')} per member` : 'unknown'],
          ['folder', set.directory],
          ['licence', set.license ?? 'unknown'],
          ['source', info?.source?.url ?? 'unknown'],
          ['metadata', info ? set.metadataPath : (set.metadataError ?? 'none (write it with: metaspliceai models index)')],
        ];
        if (info?.citation) lines.push(['citation', info.citation]);
        for (const [k, v] of lines) writeLine(io.stdout, `${k.padEnd(13)}${v}`);
        writeLine(io.stdout);
        writeLine(
          io.stdout,
          table(
            ['MEMBER', 'CONTEXT', 'SIZE', 'SHA256', 'FILE'],
            set.members.map((m) => {
              const listed = info?.files.find((f) => f.memberId === m.memberId || m.path.endsWith(f.path));
              return [m.memberId, m.error ? 'unreadable' : m.context, m.size, listed ? `${listed.sha256.slice(0, 12)}…` : '-', relative(io.cwd, m.path)];
            }),
          ),
        );
        return 0;
      }),
  );

  pick(common(models.command('validate [adapter]').description('check every set (or one adapter/context); exit 1 when invalid')))
    .option('--no-checksums', 'skip hashing the files against model_info.json')
    .action((adapter: string | undefined, opts: SetOptions) =>
      run(async () => {
        const manager = await managerFor(opts, io);
        const report = await manager.validate({
          adapter,
          setName: opts.set,
          context: modelFlags(opts).context,
          checksums: opts.checksums,
        });
        if (opts.json) {
          writeLine(io.stdout, JSON.stringify(report));
          return report.valid ? 0 : 1;
        }
        for (const s of report.sets) {
          writeLine(io.stdout, `${s.valid ? 'ok     ' : 'INVALID'}  ${s.adapter}/${s.setName}/${s.context}`);
          for (const i of s.issues) writeLine(io.stdout, `         ${i.severity}: ${i.message}`);
          for (const r of s.recommendations) writeLine(io.stdout, `         recommendation: ${r}`);
        }
        for (const i of report.issues) writeLine(io.stdout, `${i.severity}: ${i.message}`);
        for (const r of report.recommendations) writeLine(io.stdout, `recommendation: ${r}`);
        writeLine(io.stdout, report.valid ? `valid: ${report.sets.length} set(s) under ${report.root}` : 'invalid');
        return report.valid ? 0 : 1;
      }),
    );

  pick(common(models.command('health [adapter]').description('load sets and run them on a canonical input; exit 1 on failure')))
    .option('--backend <name>', 'runtime backend (e.g. onnx, tfjs, auto)')
    .option('--device <device>', 'cpu or gpu')
    .option('--strict', 'fail a set whose files differ from its model_info.json (size, sha256) instead of warning')
    .action((adapter: string | undefined, opts: SetOptions) =>
      run(async () => {
        const manager = await managerFor(opts, io);
        const { context, device } = modelFlags(opts);
        const targets = adapter
          ? [await manager.resolve({ adapter, setName: opts.set, context })]
          : (await manager.discover()).modelSets.filter((s) => (!opts.set || s.name === opts.set) && (context === undefined || s.context === context));
        const reports: (HealthReport & { runtimes?: unknown })[] = [];
        for (const set of targets) {
          const report = await manager.health({ adapter: set.adapter, setName: set.name, context: set.context, backend: opts.backend, device });
          const runtimes = await manager.adapter(set.adapter).describeRuntimes?.();
          reports.push(runtimes ? { ...report, runtimes } : report);
          if (!opts.json) {
            writeLine(
              io.stdout,
              `${report.ok ? 'ok    ' : 'FAILED'}  ${modelSetKey(set)}  backend=${report.backend} device=${report.device}  ${report.milliseconds.toFixed(0)} ms`,
            );
            for (const c of report.checks) writeLine(io.stdout, `        ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}`);
            for (const line of runtimes ?? []) writeLine(io.stdout, `        runtime: ${line}`);
            if (set.license) writeLine(io.stdout, `        licence: ${set.license}`);
          }
        }
        const ok = reports.length > 0 && reports.every((r) => r.ok);
        if (opts.json) writeLine(io.stdout, JSON.stringify({ ok, reports }));
        else if (reports.length === 0) writeLine(io.stdout, 'no model sets to check');
        return ok ? 0 : 1;
      }),
    );

  common(
    models
      .command('index [dir]')
      .description('write metadata/model_info.json (sha256, size, licence, source) for each set (under dir, which may lie outside the models folder)'),
  )
    .option('--golden', 'also record golden outputs for the health check (loads each set)')
    .option('--backend <name>', 'runtime backend for --golden')
    .action((dir: string | undefined, opts: SetOptions) =>
      run(async () => {
        const manager = await managerFor(opts, io);
        const directory = dir ? resolve(io.cwd, dir) : undefined;
        const written = await manager.index({ directory, golden: opts.golden, backend: opts.backend });
        if (written.length === 0) {
          throw new ModelNotFoundError(`no model sets under ${directory ?? manager.modelsDir}; nothing was indexed`, {
            hint: 'give the folder that holds the model files (run: metaspliceai models list --models-dir <folder> to see what is found)',
          });
        }
        if (opts.json)
          writeLine(io.stdout, JSON.stringify({ written: written.map((w) => ({ set: modelSetKey(w.set), path: w.path, files: w.info.files.length })) }));
        else for (const w of written) writeLine(io.stdout, `wrote ${relative(io.cwd, w.path)}  (${modelSetKey(w.set)}, ${w.info.files.length} files)`);
        return 0;
      }),
    );

  registerPullCommand(models, io, run, common);
}

function printList(found: DiscoveryResult, io: CliIO): void {
  if (found.modelSets.length === 0) {
    writeLine(io.stdout, `no model sets under ${found.root}`);
  } else {
    writeLine(
      io.stdout,
      table(
        ['ADAPTER', 'SET', 'CONTEXT', 'MEMBERS', 'PARAMS', 'LICENCE', 'FOLDER'],
        found.modelSets.map((s) => [
          s.adapter,
          s.name,
          s.context,
          s.members.length,
          s.parameterCount?.toLocaleString('en-US') ?? '-',
          s.license ?? '-',
          relative(io.cwd, s.directory) || '.',
        ]),
      ),
    );
  }
  for (const m of found.metaModels) writeLine(io.stdout, `meta-model resource: ${m.kind} (${m.format}) ${relative(io.cwd, m.path)}`);
  for (const p of found.problems) writeLine(io.stderr, `warning: ${p.message}`);
}
