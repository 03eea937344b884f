import { type Device, type LoadedModel, RuntimeMissingError } from '@metaspliceai/core';
import { SpliceGraphBuilder, createOnnxModel, ensembleOptionsFor, isOnnxRuntimeAvailable } from '@metaspliceai/onnx';
import type { KerasGraph } from './keras/index.js';
import { recordKerasNetwork } from './onnx/graph.js';
import { createTfjsModel, detectTfjsBackends } from './tfjs/index.js';

export type SpliceAIBackend = 'onnx' | 'tfjs';

export interface BackendChoice {
  backend: SpliceAIBackend;
  reason: string;
}

/** Builds a loaded model of a Keras graph on one backend. */
export async function createModel(graph: KerasGraph, backend: SpliceAIBackend, options: { device: Device; threads?: number }): Promise<LoadedModel> {
  if (backend === 'tfjs') return createTfjsModel(graph, { device: options.device, threads: options.threads });
  const { builder, output } = recordKerasNetwork(graph);
  return createOnnxModel({
    modelBytes: builder.build(output),
    stagedGraphs: () => builder.buildStaged(output),
    context: graph.context,
    device: options.device,
    threads: options.threads,
    source: graph.file,
  });
}

/** Keras graphs of one set as one onnxruntime session whose output is their mean. */
export async function createOnnxEnsemble(graphs: readonly KerasGraph[], options: { device: Device; threads?: number }): Promise<LoadedModel> {
  const members = graphs.map(recordKerasNetwork);
  return createOnnxModel({
    modelBytes: SpliceGraphBuilder.buildMean(members, ensembleOptionsFor(options.device)),
    stagedGraphs: () => SpliceGraphBuilder.buildStagedMean(members, ensembleOptionsFor(options.device)),
    memoryArena: true,
    context: graphs[0].context,
    device: options.device,
    threads: options.threads,
    source: graphs.map((g) => g.file).join(', '),
  });
}

let autoChoice: Promise<BackendChoice> | undefined;

/**
 * `auto`: the fastest backend available, by measurement. onnxruntime-node measured ~8x faster
 * than TensorFlow.js' wasm backend here (see `pnpm bench`), so wasm is never timed; when a native
 * tfjs-node is installed beside onnxruntime, both are timed once per process on a short input.
 */
export function chooseBackend(graph: KerasGraph, device: Device): Promise<BackendChoice> {
  autoChoice ??= (async (): Promise<BackendChoice> => {
    const [ort, tfjs] = await Promise.all([isOnnxRuntimeAvailable(), detectTfjsBackends()]);
    const nativeTfjs = device === 'gpu' ? tfjs.nodeGpu : tfjs.node;
    if (ort && !nativeTfjs) return { backend: 'onnx', reason: 'onnxruntime-node installed; no native TensorFlow.js to compare with' };
    if (!ort && (nativeTfjs || tfjs.wasm)) return { backend: 'tfjs', reason: 'onnxruntime-node is not installed' };
    if (!ort) throw new RuntimeMissingError('onnxruntime-node', 'running SpliceAI (or install @tensorflow/tfjs-core with @tensorflow/tfjs-backend-wasm)');
    const times: Record<SpliceAIBackend, number> = { onnx: Infinity, tfjs: Infinity };
    for (const backend of ['onnx', 'tfjs'] as const) {
      const model = await createModel(graph, backend, { device });
      try {
        const length = graph.context + 2000;
        const batch = { codes: new Uint8Array(length).fill(1), batch: 1, length };
        await model.predict(batch);
        const started = performance.now();
        await model.predict(batch);
        times[backend] = performance.now() - started;
      } finally {
        await model.dispose();
      }
    }
    const backend = times.tfjs < times.onnx ? 'tfjs' : 'onnx';
    return { backend, reason: `measured onnx ${times.onnx.toFixed(0)} ms vs tfjs ${times.tfjs.toFixed(0)} ms per tile` };
  })();
  return autoChoice;
}
