import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdapterRegistrationError, AmbiguousModelError, createModelManager, MetaSpliceAIError, ModelFileError, ModelNotFoundError } from '../src/index.js';
import { createMockAdapter, mockModel } from '../src/testing/mock-adapter.js';
import { makeTree, mock } from '../../../test-support/tree.js';

const managerFor = (root: string) => createModelManager({ modelsDir: root }).register(createMockAdapter());

describe('register', () => {
  it('accepts a valid adapter once', () => {
    const m = createModelManager({ modelsDir: '/nonexistent' }).register(createMockAdapter());
    expect(m.adapters.map((a) => a.id)).toEqual(['mock']);
    expect(() => m.register(createMockAdapter())).toThrow(/already registered/);
  });
  it('rejects a wrong specification version, a bad id and a broken shape', () => {
    const m = createModelManager({ modelsDir: '/nonexistent' });
    const err = (a: unknown) => {
      try {
        m.register(a as never);
      } catch (e) {
        expect(AdapterRegistrationError.isInstance(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error('expected a registration error');
    };
    expect(err(createMockAdapter({ specificationVersion: 'v3' as never }))).toMatch(/specification "v3"/);
    expect(err(createMockAdapter({ specificationVersion: 'v1' as never }))).toMatch(/"v1".*replaced the adapter's outputClasses with tracks/);
    expect(err(createMockAdapter({ id: 'Bad Id' }))).toMatch(/id must be/);
    expect(err(createMockAdapter({ filePatterns: [/x/g] }))).toMatch(/g or y flags/);
    expect(err(createMockAdapter({ ensemble: 'sum' as never }))).toMatch(/ensemble must be 'mean' or 'adapter'/);
    expect(err(createMockAdapter({ ensemble: 'adapter' }))).toMatch(/needs a loadEnsemble/);
    expect(err(createMockAdapter({ scoring: { defaultRule: '', variantEncoding: 'utf8' as never } }))).toMatch(/defaultRule.*variantEncoding/);
    expect(err({ ...createMockAdapter(), load: undefined })).toMatch(/load must be a function/);
    expect(err(null)).toMatch(/must be an object/);
  });
});

describe('discovery', () => {
  it('finds nothing in an empty tree and says what exists', async () => {
    const root = await makeTree({});
    const m = managerFor(root);
    const d = await m.discover();
    expect(d.modelSets).toEqual([]);
    const error = await m.resolve({ adapter: 'mock' }).catch((e) => e);
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/none found/);
  });

  it('groups members by set name and context, ignoring unrelated files', async () => {
    const root = await makeTree({
      'alpha/a_8.mock': mock(8),
      'alpha/b_8.mock': mock(8),
      'alpha/c_4.mock': mock(4),
      'beta/x_8.mock': mock(8),
      'alpha/README.md': '# not a model',
      'notes.txt': 'hello',
    });
    const d = await managerFor(root).discover();
    expect(d.modelSets.map((s) => [s.name, s.context, s.members.map((m) => m.memberId)])).toEqual([
      ['alpha', 4, ['c_4']],
      ['alpha', 8, ['a_8', 'b_8']],
      ['beta', 8, ['x_8']],
    ]);
    expect(d.filesScanned).toBe(6);
    expect(d.modelSets[1].files).toEqual([join(root, 'alpha/a_8.mock'), join(root, 'alpha/b_8.mock')]);
  });

  it('reads the context from the weights, not the name, and flags the mislabelled file', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(4) });
    const m = managerFor(root);
    const d = await m.discover();
    expect(d.modelSets.map((s) => [s.context, s.members.length])).toEqual([
      [4, 1],
      [8, 1],
    ]);
    const report = await m.validate();
    expect(report.valid).toBe(false);
    const codes = report.sets.flatMap((s) => s.issues.map((i) => i.code));
    expect(codes).toContain('context-mismatch');
    expect(codes).toContain('members-disagree');
  });

  it('reports corrupt files as unreadable members, never throws', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': '{not json' });
    const m = managerFor(root);
    const d = await m.discover();
    expect(d.problems.map((p) => p.kind)).toEqual(['inspection-failed']);
    const report = await m.validate();
    expect(report.sets[0].issues.map((i) => i.code)).toEqual(['unreadable-member']);
    const error = await m.load({ adapter: 'mock' }).catch((e) => e);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error.message).toContain('b_8.mock');
  });

  it('follows symlinked folders and reports symlink loops', async () => {
    const root = await makeTree({ 'real/a_8.mock': mock(8) });
    await fs.symlink(join(root, 'real'), join(root, 'linked'));
    await fs.symlink(root, join(root, 'real', 'loop'));
    await fs.symlink(join(root, 'nowhere'), join(root, 'dangling.mock'));
    const d = await managerFor(root).discover();
    expect(d.modelSets.map((s) => [s.name, s.members.length])).toEqual([
      ['linked', 1],
      ['real', 1],
    ]);
    expect(d.problems.map((p) => p.kind).sort()).toEqual(['broken-symlink', 'symlink-loop', 'symlink-loop']);
  });

  it('walks 10,000 unrelated files and finds the one model among them', async () => {
    const files: Record<string, string> = { 'deep/set/m_8.mock': mock(8) };
    for (let i = 0; i < 10_000; i++) files[`junk/${i % 100}/file${i}.txt`] = '';
    const root = await makeTree(files);
    const d = await managerFor(root).discover();
    expect(d.filesScanned).toBe(10_001);
    expect(d.modelSets).toHaveLength(1);
  });

  it('finds meta-model artifacts', async () => {
    const root = await makeTree({ 'meta/model_multiclass.pkl': 'x', 'meta/best_model.onnx': 'y', 'meta/feature_manifest.json': '{}' });
    const d = await managerFor(root).discover();
    expect(d.metaModels.map((r) => [r.kind, r.format])).toEqual([
      ['best_model', 'onnx'],
      ['feature_manifest', 'json'],
      ['model_multiclass', 'pickle'],
    ]);

    const report = await managerFor(root).validate();
    expect(report.issues.filter((i) => i.code === 'meta-model').map((i) => [i.severity, i.message])).toEqual([
      ['warning', 'meta/model_multiclass.pkl is a pickle file: listed, never loaded (unpickling runs code from the file)'],
    ]);
    expect(report.recommendations.join('\n')).toMatch(/export model_multiclass to ONNX/);
  });
});

describe('resolution', () => {
  it('takes the largest context by default and lists what exists when nothing matches', async () => {
    const root = await makeTree({ 'alpha/a_4.mock': mock(4), 'alpha/a_8.mock': mock(8) });
    const m = managerFor(root);
    expect((await m.resolve({ adapter: 'mock' })).context).toBe(8);
    expect((await m.resolve({ adapter: 'mock', context: 4 })).context).toBe(4);
    const error = await m.resolve({ adapter: 'mock', context: 5000 }).catch((e) => e);
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/no mock model for context 5000 under .*; available: mock alpha at 4, 8/);
  });

  it('refuses an ambiguous choice and names the sets', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'beta/b_8.mock': mock(8) });
    const error = await managerFor(root)
      .resolve({ adapter: 'mock' })
      .catch((e) => e);
    expect(AmbiguousModelError.isInstance(error)).toBe(true);
    expect(error.hint).toMatch(/alpha or beta/);
  });

  it('names the registered adapters for an unknown one', async () => {
    const error = await managerFor('/nonexistent')
      .resolve({ adapter: 'nope' })
      .catch((e) => e);
    expect(MetaSpliceAIError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/registered: mock/);
  });
});

describe('metadata and validation', () => {
  it('round-trips model_info.json through index and validates checksums', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const m = managerFor(root);
    const written = await m.index({ golden: true });
    expect(written).toHaveLength(1);
    const info = JSON.parse(await fs.readFile(join(root, 'alpha/metadata/model_info.json'), 'utf8'));
    expect(info).toMatchObject({ schemaVersion: 1, adapter: 'mock', setName: 'alpha', context: 8, license: 'CC0-1.0' });
    // A family that declares no set tracks predicts the three splice classes, recorded both ways.
    expect(info).toMatchObject({ tracks: ['neither', 'acceptor', 'donor'], outputClasses: ['neither', 'acceptor', 'donor'] });
    expect(info.files.map((f: { path: string }) => f.path)).toEqual(['a_8.mock', 'b_8.mock']);
    expect(info.golden.outputs.length).toBe(info.golden.sequence.length);
    const d = await m.discover({ refresh: true });
    expect(d.modelSets[0].metadata?.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await m.validate()).valid).toBe(true);
    const health = await m.health({ adapter: 'mock' });
    expect(health.checks.map((c) => [c.name, c.ok])).toEqual([
      ['load', true],
      ['shape', true],
      ['range', true],
      ['normalised', true],
      ['golden', true],
    ]);

    await fs.writeFile(join(root, 'alpha/b_8.mock'), mock(8).replace('8', '8 '));
    await m.discover({ refresh: true });
    const report = await m.validate();
    expect(report.valid).toBe(false);
    expect(report.sets[0].issues.map((i) => i.code)).toEqual(['size-mismatch']);
  });

  it('reports missing and extra members and invalid metadata', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const m = managerFor(root);
    await m.index();
    await fs.rm(join(root, 'alpha/b_8.mock'));
    await fs.writeFile(join(root, 'alpha/c_8.mock'), mock(8));
    await m.discover({ refresh: true });
    const report = await m.validate();
    expect(report.sets[0].issues.map((i) => i.code).sort()).toEqual(['extra-member', 'missing-member']);
    expect(report.sets[0].recommendations.join()).toMatch(/models index/);

    await fs.writeFile(join(root, 'alpha/metadata/model_info.json'), JSON.stringify({ schemaVersion: 1, files: [{ path: '../../etc/passwd' }] }));
    await m.discover({ refresh: true });
    const broken = await m.validate();
    expect(broken.sets[0].issues.map((i) => i.code)).toContain('metadata-invalid');
  });

  it('says which contexts exist when validating a missing one', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/a_80.mock': mock(80) });
    const report = await managerFor(root).validate({ adapter: 'mock', context: 5000 });
    expect(report.valid).toBe(false);
    expect(report.issues[0].message).toMatch(/no mock model for context 5000 .*available: mock alpha at 8, 80/);
  });
});

describe('loading a set', () => {
  it("takes the adapter's joint model when it offers one, and loads members one by one when it declines", async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const joint: string[][] = [];
    const singles: string[] = [];
    const adapter = (offer: boolean) =>
      createMockAdapter({
        async load({ file }) {
          singles.push(file);
          return mockModel(8);
        },
        async loadEnsemble({ files, context }) {
          joint.push([...files]);
          return offer ? mockModel(context, 0.1) : undefined;
        },
      });
    const codes = new Uint8Array(20).fill(1);
    const offered = await createModelManager({ modelsDir: root }).register(adapter(true)).load({ adapter: 'mock' });
    // The joint model (bias 0.1) answers, not the mean of members (bias 0).
    expect((await offered.model.predict({ codes, batch: 1, length: 20 }))[1]).toBeCloseTo(
      (await mockModel(8, 0.1).predict({ codes, batch: 1, length: 20 }))[1],
      6,
    );
    expect(joint).toEqual([[join(root, 'alpha/a_8.mock'), join(root, 'alpha/b_8.mock')]]);
    expect(singles).toEqual([]);
    await offered.dispose();
    const declined = await createModelManager({ modelsDir: root }).register(adapter(false)).load({ adapter: 'mock' });
    expect(singles.sort()).toEqual([join(root, 'alpha/a_8.mock'), join(root, 'alpha/b_8.mock')]);
    await declined.dispose();
    expect(() => createModelManager({ modelsDir: root }).register({ ...createMockAdapter(), loadEnsemble: 'yes' } as never)).toThrow(
      /loadEnsemble, when given, must be a function/,
    );
  });

  it("never averages members of an 'adapter' ensemble: only its loadEnsemble builds the set", async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const singles: string[] = [];
    const adapter = (offer: boolean) =>
      createMockAdapter({
        ensemble: 'adapter',
        async load({ file }) {
          singles.push(file);
          return mockModel(8);
        },
        loadEnsemble: async ({ context }) =>
          offer ? { ...mockModel(context), tracks: [{ name: 'p_site', kind: 'site-probability' as const, site: 'any' as const }] } : undefined,
      });
    const asked: (readonly string[] | undefined)[] = [];
    const spy = adapter(true);
    const inner = spy.loadEnsemble!;
    spy.loadEnsemble = (o) => (asked.push(o.tracks), inner(o));
    const loaded = await createModelManager({ modelsDir: root })
      .register(spy)
      .load({ adapter: 'mock', tracks: ['p_site'] });
    expect(loaded.model.tracks.map((t) => t.name)).toEqual(['p_site']); // passed through, not reordered or averaged
    expect(asked).toEqual([['p_site']]); // the tracks the caller reads reach the adapter
    await loaded.dispose();
    await expect(createModelManager({ modelsDir: root }).register(adapter(false)).load({ adapter: 'mock' })).rejects.toThrow(
      /only the adapter can combine its members, and it declined/,
    );
    expect(singles).toEqual([]);
  });
});
