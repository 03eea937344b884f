import { once } from 'node:events';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  InvalidArgumentError,
  type LoadedModelSet,
  type ModelManager,
  modelSetKey,
  optionsObject,
  parseFlags,
  resolveDataDir,
  wholeNumber,
} from '@metaspliceai/core';
import { sniffAnnotationFormat } from '@metaspliceai/genomics';
import {
  createLookupServer,
  LookupEngine,
  type LookupGenome,
  lookupModelFrom,
  openLookupGenome,
  openPangolinGenome,
  PangolinLookup,
  type PangolinLookupGenome,
  ScoreCache,
} from '@metaspliceai/server';
import { defaultModel, type GlobalOptions, managerFor, modelFlags } from '../context.js';
import { type CliIO, writeLine } from '../output/io.js';

interface ServeOptions extends GlobalOptions {
  port?: string;
  host?: string;
  genome: string[];
  annotation: string[];
  model?: string;
  set?: string;
  context?: string;
  backend?: string;
  device?: string;
  threads?: string;
  batchSize?: string;
  cache: string | boolean;
  pangolin?: boolean;
  pangolinSet?: string;
  pangolinModel?: string;
  dataDir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `metaspliceai serve`: a private SpliceAI-lookup (its REST API, a page, a score cache) on the
 * user's own machine, genome and annotation, so patient variants never leave it.
 */
export function registerServeCommand(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  program
    .command('serve')
    .description("a private SpliceAI-lookup: SpliceAI-lookup's REST API, a page at /, and a persistent score cache")
    .option('--port <n>', 'the port (default 8080; 0 picks a free one)')
    .option('--host <address>', 'the address to bind (default 127.0.0.1: this machine only)')
    .option('--genome <hg=fasta>', 'a genome build and its FASTA, e.g. 38=GRCh38.fa (repeat for 37 and 38)', collect, [])
    .option(
      '--annotation <hg=annotation>',
      'the annotation of a build: grch37, grch38, a SpliceAI table, or a GTF/GFF3 (every transcript is scored)',
      collect,
      [],
    )
    .option(
      '--model <adapter>',
      'the base model family (adapter id), e.g. spliceai or openspliceai (default: defaultModel in metaspliceai.config.json, else the first adapter registered: spliceai when installed)',
    )
    .option('--set <name>', 'the model set, when several share a context')
    .option('--context <n>', 'the context window in nt (default: the largest available)')
    .option('--backend <name>', 'runtime backend (e.g. onnx, tfjs, auto)')
    .option('--device <device>', 'cpu or gpu')
    .option('--threads <n>', 'CPU threads for the runtime (default: all cores)')
    .option('--batch-size <n>', 'model windows per call (default 1: short calls keep the server answering)')
    .option('--pangolin', 'also serve /pangolin/ with the Pangolin model set (needs GTF/GFF3 annotations with Ensembl_canonical tags)')
    .option('--pangolin-set <name>', 'the Pangolin model set, when there are several')
    .option('--pangolin-model <adapter>', "the family behind /pangolin/ (default: the one registered adapter whose default rule is Pangolin's)")
    .option('--cache <dir>', 'the score cache folder (default: <data>/lookup-cache)')
    .option('--no-cache', 'score every request afresh')
    .option('--data-dir <dir>', 'the data folder (annotations, default cache)')
    .option('--models-dir <dir>', 'the models folder (default: data/models, metaspliceai.config.json, or $METASPLICEAI_MODELS_DIR)')
    .option('--adapter <module...>', 'also register a third-party adapter (package name or path)')
    .addHelpText(
      'after',
      `
Scripts written against SpliceAI-lookup work by changing the base URL:
  GET  /spliceai/?hg=37&variant=chr10-94077-A-C&distance=500&mask=0   (also POST, form or JSON)
  GET  /spliceai/?hg=37&variant=chr10-94077                           (reference-only scores)
  POST /spliceai/batch?hg=37&distance=500   body: JSON list, or a VCF   (streams NDJSON)
  GET  /health                                                        (model, genomes, checksums, licences)
Stop with Ctrl-C.

Example:
  metaspliceai serve --genome 37=hg19.fa --annotation 37=grch37 --genome 38=hg38.fa --annotation 38=gencode.v46.basic.annotation.gtf.gz`,
    )
    .action((opts: ServeOptions) => run(() => serve(opts, io)));
}

function pairs(flag: string, values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const at = v.indexOf('=');
    if (at < 1 || at === v.length - 1) throw new InvalidArgumentError(`${flag} takes <hg>=<file>, e.g. ${flag} 38=GRCh38.fa; got "${v}"`);
    const name = v.slice(0, at);
    if (out.has(name)) throw new InvalidArgumentError(`${flag} ${name}= is given twice`);
    out.set(name, v.slice(at + 1));
  }
  return out;
}

const serveFlags = optionsObject({ port: wholeNumber({ min: 0, max: 65535 }), batchSize: wholeNumber({ min: 1 }).optional() });

/**
 * The family behind /pangolin/: --pangolin-model, else the one registered adapter whose default
 * scoring rule is the rule /pangolin/ writes (the CLI names no family).
 */
function pangolinModel(manager: ModelManager, chosen: string | undefined): string {
  if (chosen) return chosen;
  const families = manager.adapters.filter((a) => a.scoring.defaultRule === PangolinLookup.rule);
  if (families.length !== 1) {
    throw new InvalidArgumentError(
      `--pangolin needs a model family whose default rule is ${PangolinLookup.rule}; ${families.length ? `several are registered (${families.map((a) => a.id).join(', ')})` : 'none is registered'}`,
      {
        hint: 'name it with --pangolin-model <adapter>, or install its adapter',
      },
    );
  }
  return families[0].id;
}

async function serve(opts: ServeOptions, io: CliIO): Promise<number> {
  const { port, batchSize } = parseFlags(serveFlags, { port: opts.port ?? '8080', batchSize: opts.batchSize }, { port: '--port', batchSize: '--batch-size' });
  const host = opts.host ?? '127.0.0.1';
  const { context, threads, device } = modelFlags(opts);
  const fastas = pairs('--genome', opts.genome);
  const annotations = pairs('--annotation', opts.annotation);
  if (!fastas.size) throw new InvalidArgumentError('--genome <hg>=<fasta> is required, e.g. --genome 38=GRCh38.fa');
  for (const name of fastas.keys()) if (!annotations.has(name)) throw new InvalidArgumentError(`--genome ${name}= has no --annotation ${name}=...`);
  for (const name of annotations.keys()) if (!fastas.has(name)) throw new InvalidArgumentError(`--annotation ${name}= has no --genome ${name}=...`);
  const note = (line: string) => {
    if (!opts.quiet) writeLine(io.stderr, line);
  };
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback)
    writeLine(
      io.stderr,
      `warning: --host ${host}: the server is reachable from other machines, and has no authentication; anyone who can reach it can submit variants`,
    );

  // Inputs before the model: a missing file fails in a second, not after loading weights.
  const genomes: LookupGenome[] = [];
  for (const [name, fasta] of fastas) {
    const genome = await openLookupGenome(name, resolve(io.cwd, fasta), annotations.get(name)!, {
      cwd: io.cwd,
      dataDir: opts.dataDir,
      env: io.env,
      onWarning: (w) => note(`warning: ${w}`),
    });
    note(
      `hg=${name}: ${genome.fasta.path}, ${genome.annotation.rows.length} transcript${genome.annotation.rows.length === 1 ? '' : 's'} from ${genome.annotation.path}`,
    );
    genomes.push(genome);
  }

  // /pangolin/ reads GTF/GFF3 annotations (its masks are Ensembl_canonical exons); tables are left out.
  const pangolinGenomes: PangolinLookupGenome[] = [];
  const notes: string[] = [];
  if (opts.pangolin) {
    for (const g of genomes) {
      if ((await sniffAnnotationFormat(g.annotation.path)) === 'table')
        notes.push(`/pangolin/ has no hg=${g.name}: its annotation is a SpliceAI table, without Ensembl_canonical tags`);
      else pangolinGenomes.push(await openPangolinGenome(g.name, g.fasta, g.fastaSha256, g.annotation.path));
    }
    if (!pangolinGenomes.length)
      throw new InvalidArgumentError(
        '--pangolin needs at least one --annotation that is a GTF/GFF3 file with Ensembl_canonical tags (SpliceAI tables have none)',
      );
    for (const n of notes) note(`note: ${n}`);
  } else notes.push('/pangolin/ is off: start with --pangolin to serve it');

  const cacheDir =
    opts.cache === false
      ? undefined
      : typeof opts.cache === 'string'
        ? resolve(io.cwd, opts.cache)
        : join(resolveDataDir({ cwd: io.cwd, dataDir: opts.dataDir, env: io.env }), 'lookup-cache');
  const cache = cacheDir ? new ScoreCache(cacheDir) : undefined;

  const manager = await managerFor(opts, io);
  const adapter = opts.model ?? defaultModel(manager, io);
  const loaded = await manager.load({ adapter, setName: opts.set, context, backend: opts.backend, device, threads });
  let pangolinSet: LoadedModelSet | undefined;
  try {
    const engine = new LookupEngine({ model: await lookupModelFrom(loaded, manager.adapter(adapter).scoring.variantEncoding), genomes, cache, batchSize });
    if (opts.pangolin)
      pangolinSet = await manager.load({
        adapter: pangolinModel(manager, opts.pangolinModel),
        setName: opts.pangolinSet,
        backend: opts.backend,
        device,
        threads,
      });
    const pangolin = pangolinSet
      ? new PangolinLookup({
          model: await lookupModelFrom(pangolinSet, manager.adapter(pangolinSet.set.adapter).scoring.variantEncoding),
          genomes: pangolinGenomes,
          cache,
          batchSize,
        })
      : undefined;
    return await listen(createLookupServer(engine, {}, { notes, pangolin }), { port, host, note, io, loaded, pangolinSet, cache });
  } finally {
    cache?.close();
    await pangolinSet?.dispose();
    await loaded.dispose();
  }
}

/** Listens until SIGINT or SIGTERM, then closes the server (its callers free the models). */
async function listen(
  app: ReturnType<typeof createLookupServer>,
  ctx: { port: number; host: string; note: (line: string) => void; io: CliIO; loaded: LoadedModelSet; pangolinSet?: LoadedModelSet; cache?: ScoreCache },
): Promise<number> {
  const { port, host, note, io, loaded, pangolinSet, cache } = ctx;
  try {
    const url = await app.listen({ port, host });
    note(`model: ${modelSetKey(loaded.set)} (${loaded.model.backend} on ${loaded.model.device})${loaded.license ? `; licence: ${loaded.license}` : ''}`);
    if (pangolinSet) note(`/pangolin/: ${modelSetKey(pangolinSet.set)}${pangolinSet.license ? `; licence: ${pangolinSet.license}` : ''}`);
    if (cache) note(`cache: ${cache.path} (${cache.size()} entries)`);
    writeLine(io.stderr, `metaspliceai serve: listening on ${url} (Ctrl-C stops)`);
    const signals = new AbortController();
    const onSignal = () => signals.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await once(signals.signal, 'abort');
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    note('metaspliceai serve: stopping');
    return 0;
  } finally {
    await app.close();
  }
}
