/**
 * Parity of `predict` with the reference fixtures, for every sequence of ../shared/fixtures and
 * every model key, through the library (SequenceInference over the FASTA's records, packed in one
 * stream) and through the CLI (`predict --format json`). Within 1e-5 absolute.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BaseModelAdapter, createEnsemble, createModelManager, type LoadedModel } from '@metaspliceai/core';
import { fastaRecordInputs, openFasta, SequenceInference } from '@metaspliceai/genomics';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { createSpliceAIAdapter } from '@metaspliceai/adapter-spliceai';
import { FIXTURES, maxAbsDifference, readExpected } from '../../../test-support/fixtures.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

const SEQUENCES = join(FIXTURES, 'sequences.fa');
const NAMES = ['tubb8_window', 'random1200_seed7', 'short50'];

interface Case {
  key: string;
  adapter: 'spliceai' | 'openspliceai';
  context: number;
  /** A whole set through the manager... */
  set?: string;
  /** ...or one member file (relative to the models folder), loaded alone. */
  member?: string;
}

const CASES: Case[] = [
  { key: 'spliceai_ensemble', adapter: 'spliceai', context: 10000, set: 'spliceai' },
  { key: 'spliceai1', adapter: 'spliceai', context: 10000, member: 'spliceai/spliceai1.h5' },
  ...[80, 400, 2000, 10000].map((context) => ({
    key: `openspliceai_mane_${context}_ensemble`,
    adapter: 'openspliceai' as const,
    context,
    set: 'openspliceai-mane',
  })),
  { key: 'openspliceai_mane_10000_rs10', adapter: 'openspliceai', context: 10000, member: 'openspliceai/openspliceai-mane/10000nt/model_10000nt_rs10.pt' },
];

const factories: Record<Case['adapter'], () => BaseModelAdapter> = { spliceai: createSpliceAIAdapter, openspliceai: createOpenSpliceAIAdapter };

const temp: string[] = [];
afterAll(async () => {
  for (const dir of temp) await fs.rm(dir, { recursive: true, force: true });
});

/** A models folder holding only `member` (a symlink), so the CLI's manager sees a one-member set. */
async function memberOnly(member: string): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-member-'));
  temp.push(root);
  await fs.mkdir(dirname(join(root, member)), { recursive: true });
  await fs.symlink(join(MODELS_DIR, member), join(root, member));
  return root;
}

async function loadCase(c: Case, adapter: BaseModelAdapter): Promise<LoadedModel> {
  if (c.member) return createEnsemble([await adapter.load({ file: join(MODELS_DIR, c.member), context: c.context })]);
  const manager = createModelManager({ modelsDir: MODELS_DIR }).register(adapter);
  return (await manager.load({ adapter: c.adapter, setName: c.set, context: c.context })).model;
}

describe('predict matches the reference fixtures within 1e-5', () => {
  for (const c of CASES) {
    const factory = factories[c.adapter];
    describe(c.key, () => {
      it('through the library (SequenceInference over the fixture FASTA)', async () => {
        const model = await loadCase(c, factory());
        const inference = new SequenceInference({ models: model });
        try {
          const rows = new Map<string, Float32Array>();
          for await (const e of inference.predict(fastaRecordInputs(await openFasta(SEQUENCES)))) {
            if (e.type === 'begin') rows.set(e.sequence.name, new Float32Array(e.sequence.length * 3));
            if (e.type === 'rows') rows.get(e.sequence.name)!.set(e.probabilities, e.offset * 3);
          }
          expect([...rows.keys()]).toEqual(NAMES);
          for (const name of NAMES) expect(maxAbsDifference(rows.get(name)!, readExpected(name, c.key)), name).toBeLessThan(1e-5);
        } finally {
          await model.dispose();
        }
      });

      it('through the CLI (predict --format json)', async () => {
        const modelsDir = c.member ? await memberOnly(c.member) : MODELS_DIR;
        const args = [
          'predict',
          '--model',
          c.adapter,
          '--context',
          String(c.context),
          '--models-dir',
          modelsDir,
          '--fasta',
          SEQUENCES,
          '--format',
          'json',
          '--quiet',
        ];
        if (c.set) args.push('--set', c.set);
        const r = await cli(args);
        // A member copied alone is a partial set: load says so in one warning line, and runs.
        if (c.member) expect(r.stderr).toMatch(/^warning: .*1 of the 5 published .* members are present.*\n$/);
        else expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const objs = r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as { name: string; length: number; neither: number[]; acceptor: number[]; donor: number[] });
        expect(objs.map((o) => o.name)).toEqual(NAMES);
        for (const o of objs) {
          const flat = new Float32Array(o.length * 3);
          o.neither.forEach((v, i) => flat.set([v, o.acceptor[i], o.donor[i]], i * 3));
          expect(maxAbsDifference(flat, readExpected(o.name, c.key)), o.name).toBeLessThan(1e-5);
        }
      });
    });
  }
});
