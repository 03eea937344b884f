/**
 * Runs the stage graphs of `SpliceGraphBuilder.buildStaged` behind core's `StagedNetwork`: the
 * sessions open on first use, so a model that never scores variants pays nothing for them.
 */
import { type ConeCost, InvalidArgumentError, type PredictBatch, type StagedNetwork, type StageTensor } from '@metaspliceai/core';
import { type StagedGraphs, STATE_INPUT, STATE_OUTPUT } from './graph-builder.js';
import { oneHotFor, toPositionRows } from './layout.js';
import type { OrtModule, OrtSession } from './runtime.js';

export class StagedOnnxNetwork implements StagedNetwork {
  readonly reach: readonly number[];
  readonly channels: readonly number[];
  private readonly sessions: (Promise<OrtSession> | undefined)[];
  private disposed = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly graphs: StagedGraphs,
    private readonly open: (bytes: Uint8Array) => Promise<OrtSession>,
    /** Whether the last stage ends in logits (apply a softmax to its rows). */
    private readonly softmax: boolean,
  ) {
    this.reach = graphs.reach;
    this.channels = graphs.channels;
    this.sessions = graphs.models.map(() => undefined);
  }

  coneCost(dist: number): ConeCost {
    return this.graphs.coneCost(dist);
  }

  async runFirst({ codes, batch, length }: PredictBatch): Promise<StageTensor> {
    const layout = this.graphs.layout === 'conv2d' ? 'NC1L' : 'NCL';
    const data = oneHotFor(layout, codes, batch, length);
    return this.run(0, this.graphs.inputName, STATE_OUTPUT, { data, batch, channels: 4, length });
  }

  async runMiddle(stage: number, state: StageTensor): Promise<StageTensor> {
    if (!Number.isInteger(stage) || stage < 1 || stage >= this.reach.length - 1) {
      throw new InvalidArgumentError(`runMiddle: stage must be 1..${this.reach.length - 2}, got ${stage}`);
    }
    return this.run(stage, STATE_INPUT, STATE_OUTPUT, state);
  }

  async runLast(state: StageTensor): Promise<Float32Array> {
    const last = this.reach.length - 1;
    const out = await this.run(last, STATE_INPUT, this.graphs.outputName, state);
    return toPositionRows(out.data, 'NC1L', out.batch, out.channels, out.length, 0, out.length, this.softmax);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const open = this.sessions.filter((s) => s !== undefined);
    this.sessions.fill(undefined);
    await Promise.all(open.map(async (s) => (await s).release()));
  }

  private async run(stage: number, inputName: string, outputName: string, input: StageTensor): Promise<StageTensor> {
    if (this.disposed) throw new InvalidArgumentError('a stage was run after the model was disposed');
    const expected = stage === 0 ? 4 : this.channels[stage - 1];
    if (input.channels !== expected || input.data.length !== input.batch * input.channels * input.length) {
      throw new InvalidArgumentError(
        `stage ${stage} takes ${expected} channels; got (${input.batch}, ${input.channels}, ${input.length}) with ${input.data.length} values`,
      );
    }
    if (input.length <= 2 * this.reach[stage]) {
      throw new InvalidArgumentError(`stage ${stage} needs more than ${2 * this.reach[stage]} positions, got ${input.length}`);
    }
    this.sessions[stage] ??= this.open(this.graphs.models[stage]);
    const session = await this.sessions[stage]!;
    const dims = this.graphs.layout === 'conv2d' ? [input.batch, input.channels, 1, input.length] : [input.batch, input.channels, input.length];
    const results = await session.run({ [inputName]: new this.ort.Tensor('float32', input.data, dims) }, [outputName]);
    const output = results[outputName] as { dims: readonly number[]; data: Float32Array };
    const d = output.dims;
    return { data: output.data, batch: d[0], channels: d[1], length: d[d.length - 1] };
  }
}
