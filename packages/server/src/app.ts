import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { flag, MetaSpliceAIError, parseOptions, wholeNumber } from '@metaspliceai/core';
import { SPLICEAI_RULE } from '@metaspliceai/genomics';
import { z } from 'zod';
import { type CachedAnswer } from './cache.js';
import { LookupAbortedError, type LookupEngine, type LookupQuery, MAX_DISTANCE } from './engine.js';
import type { PangolinLookup } from './pangolin.js';
import { parseLookupVariant } from './variant-text.js';

/** Options of `createLookupServer`. */
export const lookupServerOptionsSchema = z.object({
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit: wholeNumber({ min: 1 }).default(1024 * 1024),
  /** Most variants in one batch request (default 1000). */
  maxBatchVariants: wholeNumber({ min: 1 }).default(1000),
  /** Milliseconds a request may take in all (default 10 minutes: a batch streams that long at most). */
  requestTimeout: wholeNumber({ min: 1 }).default(600_000),
  /** Log requests (Fastify's pino logger; default off). */
  logger: flag().default(false),
});
export type LookupServerOptions = z.input<typeof lookupServerOptionsSchema>;

const SPLICEAI_EXAMPLE = '/spliceai/?hg=38&distance=500&mask=0&variant=chr8-140300615-C-G';
const PUBLIC = new URL('../public/', import.meta.url);
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** What `/health` reports besides the engine's own parts. */
export interface HealthExtras {
  version?: string;
  /** Other families seen but not loaded, e.g. why `/pangolin/` is off. */
  notes?: string[];
  /** Serves `/pangolin/` when given (a model with Pangolin's tracks). */
  pangolin?: PangolinLookup;
}

/**
 * A Fastify app serving SpliceAI-lookup's API (`/spliceai/`, same parameters and field names),
 * a batch endpoint streaming NDJSON (`/spliceai/batch`), `/health`, and the page at `/`.
 * Call `listen` on it, or `inject` in tests. Bad input answers `{"error": "..."}` with status 400;
 * nothing answers with a stack trace.
 */
export function createLookupServer(engine: LookupEngine, options: LookupServerOptions = {}, extras: HealthExtras = {}): FastifyInstance {
  const opts = parseOptions(lookupServerOptionsSchema, options, { owner: 'createLookupServer' });
  const app = Fastify({ logger: opts.logger, bodyLimit: opts.bodyLimit, requestTimeout: opts.requestTimeout, connectionTimeout: opts.requestTimeout });
  // VCF bodies and plain lists arrive as text.
  app.addContentTypeParser(['text/plain', 'text/x-vcf', 'text/vcf', 'application/octet-stream'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : MetaSpliceAIError.isInstance(error) ? 400 : 500;
    const message = status === 500 ? 'internal error while scoring; the server log has the details' : error.message.split('\n')[0];
    if (status === 500) app.log.error(error);
    void reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler(
    (request, reply) => void reply.code(404).send({ error: `no such endpoint: ${request.method} ${request.url.split('?')[0]}; try ${SPLICEAI_EXAMPLE}` }),
  );

  const handler =
    (tool: string, lookup: (query: LookupQuery, signal: AbortSignal) => Promise<CachedAnswer>) => async (request: FastifyRequest, reply: FastifyReply) => {
      const params = { ...(request.query as Record<string, unknown>), ...(isObject(request.body) ? request.body : {}) };
      const query = parseQuery(params);
      if ('error' in query) return reply.code(400).send({ error: query.error, source: tool });
      const signal = abortOnClose(request, reply);
      try {
        const answer = await lookup(query, signal);
        return reply.code(answer.status).send(answer.body);
      } catch (error) {
        if (error instanceof LookupAbortedError) return reply; // nobody is listening
        throw error;
      }
    };
  const single = handler('spliceai', (q, s) => engine.lookup(q, s));
  app.get('/spliceai/', single);
  app.post('/spliceai/', single);
  app.get('/spliceai', single);
  app.post('/spliceai', single);

  const batch = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = { ...(request.query as Record<string, unknown>) };
    const texts = batchVariants(request.body);
    if ('error' in texts) return reply.code(400).send({ error: texts.error });
    if (texts.variants.length > opts.maxBatchVariants)
      return reply.code(400).send({ error: `a batch holds at most ${opts.maxBatchVariants} variants, got ${texts.variants.length}; split it` });
    const first = parseQuery({ ...params, variant: texts.variants[0] ?? '1-1' });
    if ('error' in first && !/variant/i.test(first.error)) return reply.code(400).send({ error: first.error });
    const signal = abortOnClose(request, reply);
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    // Scored in order, a window at a time, all of a window submitted together so they share model calls.
    const WINDOW = 32;
    for (let start = 0; start < texts.variants.length && !signal.aborted; start += WINDOW) {
      const slice = texts.variants.slice(start, start + WINDOW);
      const answers = await Promise.all(
        slice.map(async (variant) => {
          const query = parseQuery({ ...params, variant });
          if ('error' in query) return { variant, source: 'spliceai', error: query.error };
          try {
            const answer = await engine.lookup(query, signal);
            return answer.body;
          } catch (error) {
            if (error instanceof LookupAbortedError) return undefined;
            app.log.error(error);
            return { variant, source: 'spliceai', error: MetaSpliceAIError.isInstance(error) ? error.message : 'internal error while scoring' };
          }
        }),
      );
      if (signal.aborted) break;
      reply.raw.write(answers.map((a) => `${JSON.stringify(a)}\n`).join(''));
    }
    reply.raw.end();
    return reply;
  };
  app.post('/spliceai/batch', batch);

  const pangolin = extras.pangolin
    ? handler('pangolin', (q, s) => extras.pangolin!.lookup(q, s))
    : async (_request: FastifyRequest, reply: FastifyReply) =>
        reply.code(404).send({
          error: `pangolin is not loaded on this server: it scores with ${engine.model.adapter}:${engine.model.set} (rule spliceai). Start it with --pangolin (a Pangolin model set and a GTF/GFF3 annotation) for /pangolin/`,
          source: 'pangolin',
        });
  app.get('/pangolin/', pangolin);
  app.post('/pangolin/', pangolin);

  app.get('/health', async () => ({
    ok: true,
    version: extras.version,
    tools: { spliceai: true, pangolin: extras.pangolin !== undefined },
    pangolin: extras.pangolin
      ? {
          model: {
            adapter: extras.pangolin.model.adapter,
            set: extras.pangolin.model.set,
            license: extras.pangolin.model.license ?? null,
            members: extras.pangolin.model.members,
          },
          genomes: [...extras.pangolin.genomes.values()].map((g) => ({
            hg: g.name,
            fastaSha256: g.fastaSha256,
            annotation: g.annotation.path,
            annotationSha256: g.annotation.sha256,
          })),
        }
      : null,
    rule: SPLICEAI_RULE.name,
    model: {
      adapter: engine.model.adapter,
      set: engine.model.set,
      context: engine.model.model.context,
      backend: engine.model.model.backend,
      device: engine.model.model.device,
      license: engine.model.license ?? null,
      members: engine.model.members,
    },
    genomes: [...engine.genomes.values()].map((g) => ({
      hg: g.name,
      fasta: g.fasta.path,
      fastaSha256: g.fastaSha256,
      annotation: g.annotation.path,
      annotationSha256: g.annotation.sha256,
      transcripts: g.annotation.rows.length,
    })),
    cache: engine.cache ? { path: engine.cache.path, entries: engine.cache.size() } : null,
    limits: { maxDistance: MAX_DISTANCE, maxBatchVariants: opts.maxBatchVariants, bodyLimit: opts.bodyLimit },
    notes: extras.notes ?? [],
  }));

  app.get('/', async (_request, reply) => sendAsset(reply, 'index.html'));
  app.get('/assets/:name', async (request, reply) => {
    const name = (request.params as { name: string }).name;
    if (!Object.hasOwn(ASSETS, name) || name === 'index.html') return reply.code(404).send({ error: `no such asset: ${name}` });
    return sendAsset(reply, name);
  });
  return app;
}

async function sendAsset(reply: FastifyReply, name: string) {
  const body = await readFile(new URL(name, PUBLIC));
  return reply.type(ASSETS[name]).header('cache-control', 'no-cache').send(body);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** An AbortSignal that fires when the client goes away before the answer is sent. */
function abortOnClose(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  request.raw.socket.once('close', onClose);
  reply.raw.once('close', onClose);
  reply.raw.once('finish', () => request.raw.socket.off('close', onClose));
  return controller.signal;
}

/** Checks SpliceAI-lookup's parameters; the messages follow its own. */
export function parseQuery(params: Record<string, unknown>): LookupQuery | { error: string } {
  const variant = params.variant;
  if (variant === undefined || variant === '') return { error: '"variant" not specified' };
  if (typeof variant !== 'string') return { error: `"variant" value must be a string rather than a ${Array.isArray(variant) ? 'list' : typeof variant}` };
  const hg = params.hg === undefined ? undefined : String(params.hg);
  if (!hg) return { error: `"hg" not specified. The URL must include an "hg" arg: hg=37 or hg=38. For example: ${SPLICEAI_EXAMPLE}` };
  const distanceText = String(params.distance ?? '500');
  if (!/^\d+$/.test(distanceText))
    return { error: `Invalid "distance": "${distanceText.slice(0, 20)}". The value must be a whole number from 0 to ${MAX_DISTANCE}` };
  const distance = Number(distanceText);
  if (distance > MAX_DISTANCE) return { error: `Invalid "distance": "${distanceText}". This server scores distances up to ${MAX_DISTANCE}` };
  const maskText = String(params.mask ?? '0');
  if (maskText !== '0' && maskText !== '1')
    return { error: `Invalid "mask" value: "${maskText.slice(0, 20)}". The value must be either "0" or "1". For example: ${SPLICEAI_EXAMPLE}` };
  try {
    return { genome: hg, variant: parseLookupVariant(variant), text: variant.trim(), distance, mask: maskText === '1' ? 1 : 0 };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The variants of a batch body: a JSON list (of strings, or `{variant}` objects), `{variants: [...]}`, or a VCF / one per line. */
function batchVariants(body: unknown): { variants: string[] } | { error: string } {
  if (typeof body === 'string') {
    const variants: string[] = [];
    if (/^##fileformat=VCF|^#CHROM/m.test(body)) {
      let n = 0;
      for (const line of body.split(/\r?\n/)) {
        n++;
        if (!line.trim() || line.startsWith('#')) continue;
        const f = line.split('\t');
        if (f.length < 5 || !/^\d+$/.test(f[1])) return { error: `VCF body line ${n}: expected CHROM POS ID REF ALT separated by tabs` };
        for (const alt of f[4].split(',')) variants.push(`${f[0]}-${f[1]}-${f[3]}-${alt}`);
      }
      return { variants };
    }
    for (const line of body.split(/\r?\n/)) if (line.trim() && !line.startsWith('#')) variants.push(line.trim());
    return { variants };
  }
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.variants) ? body.variants : undefined;
  if (!list) return { error: 'a batch body is a JSON list of variants, {"variants": [...]}, a VCF, or one variant per line (text/plain)' };
  const variants: string[] = [];
  for (const item of list) {
    const text = typeof item === 'string' ? item : isObject(item) && typeof item.variant === 'string' ? item.variant : undefined;
    if (text === undefined) return { error: `batch item ${variants.length + 1} is not a variant string or {"variant": "..."}` };
    variants.push(text);
  }
  return { variants };
}
