import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, type PulledFile, pullModelSet, selectKnownModelSet } from '@metaspliceai/core';
import { type GlobalOptions, managerFor, modelFlags } from '../context.js';
import { type CliIO, writeLine } from '../output/io.js';
import { createProgress } from '../output/progress.js';
import { table } from '../output/table.js';

interface PullOptions extends GlobalOptions {
  set?: string;
  context?: string;
  from?: string;
}

/**
 * `models pull <adapter>`: fetches a published set from the adapter's catalogue (or a mirror) into
 * the models folder, verified and recorded in model_info.json, then validates it.
 */
export function registerPullCommand(models: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>, common: (cmd: Command) => Command): void {
  common(models.command('pull <adapter>').description('download a published model set (sha256-verified, resumable) into the models folder'))
    .option('--set <name>', 'the published set (e.g. openspliceai-mane); needed when several share the context')
    .option('--context <n>', 'the context window in nt (default: the largest published)')
    .option('--from <url|dir>', 'a mirror: a base URL or a folder laid out like the models folder')
    .option('--quiet', 'no progress bar on stderr')
    .action((adapterId: string, opts: PullOptions) =>
      run(async () => {
        const { context } = modelFlags(opts);
        const from = opts.from === undefined ? undefined : mirror(opts.from, io.cwd);
        const manager = await managerFor(opts, io);
        const adapter = manager.adapter(adapterId);
        const known = selectKnownModelSet(adapter, { setName: opts.set, context });
        const bytes = known.files.reduce((n, f) => n + f.size, 0);
        const where = relative(io.cwd, resolve(manager.modelsDir, ...known.directory.split('/'))) || '.';
        if (!opts.json) {
          writeLine(
            io.stdout,
            `pulling ${adapter.id} ${known.setName} at ${known.context} nt: ${known.files.length} files, ${formatBytes(bytes)}, into ${where}`,
          );
          writeLine(io.stdout, `source:  ${from ?? known.sourceUrl}`);
          writeLine(io.stdout, `licence: ${known.license} (the weights' terms apply to your use of them)`);
        }

        const progress = createProgress(io, { label: 'pull', unit: 'bytes', quiet: opts.quiet || opts.json });
        let shown = 0;
        const result = await pullModelSet(known, {
          adapter,
          modelsDir: manager.modelsDir,
          from,
          onProgress: (p) => {
            if (shown === 0) progress.setTotal(p.total);
            progress.advance(p.received - shown);
            shown = p.received;
          },
          onFile: (f) => {
            if (progress.active) progress.log(`${f.status.padEnd(10)} ${f.name}`);
          },
        }).then(
          (r) => {
            progress.finish({ summary: shown > 0 });
            return r;
          },
          (error: unknown) => {
            progress.finish({ summary: false });
            throw error;
          },
        );

        const report = await manager.validate({ adapter: adapter.id, setName: known.setName, context: known.context });
        if (opts.json) {
          writeLine(
            io.stdout,
            JSON.stringify({
              adapter: adapter.id,
              setName: known.setName,
              context: known.context,
              license: known.license,
              sourceUrl: known.sourceUrl,
              citation: known.citation,
              from: from ?? null,
              directory: result.directory,
              metadata: result.metadataPath,
              files: result.files,
              valid: report.valid,
              issues: report.sets.flatMap((s) => s.issues),
            }),
          );
          return report.valid ? 0 : 1;
        }
        writeLine(io.stdout);
        writeLine(
          io.stdout,
          table(
            ['STATUS', 'FILE', 'SIZE', 'SHA256'],
            result.files.map((f: PulledFile) => [f.status, f.name, f.size.toLocaleString('en-US'), `${f.sha256.slice(0, 16)}…`]),
          ),
        );
        writeLine(io.stdout);
        writeLine(io.stdout, `wrote ${relative(io.cwd, result.metadataPath)}`);
        for (const s of report.sets) for (const i of s.issues) writeLine(io.stdout, `${i.severity}: ${i.message}`);
        writeLine(
          io.stdout,
          report.valid ? `valid: ${adapter.id} ${known.setName} at ${known.context} nt is ready` : 'invalid: the pulled set does not validate (see above)',
        );
        if (known.citation) writeLine(io.stdout, `cite: ${known.citation}`);
        return report.valid ? 0 : 1;
      }),
    );
}

/** `--from`: an http(s) or file URL as given, or an existing folder resolved against the working folder. */
function mirror(value: string, cwd: string): string {
  if (/^(https?|file):/i.test(value)) return value;
  const folder = resolve(cwd, value);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) {
    throw new InvalidArgumentError(`--from ${value}: not an http(s) URL and not a folder`, {
      hint: 'give a base URL (https://host/path/) or a folder holding the files under the same paths as the models folder',
    });
  }
  return folder;
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}
