import { promises as fs } from 'node:fs';
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { externalDataProblem, inspectModel, type OnnxModelSummary } from './onnx-proto.js';

export interface OnnxFileInspection {
  /**
   * The receptive field: the `context` this package's builder records in the model's metadata, or
   * else the sum of dilation x (kernel - 1) over every convolution.
   */
  context: number;
  architecture: string;
  parameterCount: number;
  convolutions: number;
}

/**
 * Reads an `.onnx` file's graph without a runtime and derives what discovery needs. For the
 * SpliceAI family (dilated 'same' convolutions, cropped to what every output can see), the
 * receptive field summed over the convolutions is the model's context. Graphs from this package's
 * builder record it instead: their crops are depthwise convolutions off the main chain.
 */
export async function inspectOnnxFile(file: string): Promise<OnnxFileInspection> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (cause) {
    throw new ModelFileError(file, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? cause})`, { cause });
  }
  let summary;
  try {
    summary = inspectModel(bytes);
  } catch (cause) {
    throw new ModelFileError(file, `is not a readable ONNX model (${(cause as Error).message})`, { cause });
  }
  refuseUnsafeExternalData(file, summary);
  const convs = summary.nodes.filter((n) => n.opType === 'Conv');
  if (convs.length === 0) throw new ModelFileError(file, 'has no Conv nodes: not a SpliceAI-family ONNX model');
  const recorded = /^\d+$/.test(summary.metadata.context ?? '') ? Number(summary.metadata.context) : undefined;
  let summed = 0;
  for (const node of convs) {
    const weight = summary.initializerDims[node.inputs[1]];
    const attr = node.attributes.kernel_shape;
    const kernelShape = Array.isArray(attr) ? attr : weight?.slice(2);
    if (!kernelShape || kernelShape.length === 0) throw new ModelFileError(file, `Conv node ${node.outputs[0]} has no kernel shape`);
    const kernel = kernelShape[kernelShape.length - 1];
    const dilations = node.attributes.dilations;
    const dilation = Array.isArray(dilations) ? dilations[dilations.length - 1] : 1;
    summed += dilation * (kernel - 1);
  }
  const context = recorded ?? summed;
  const parameterCount = Object.values(summary.initializerDims).reduce((n, dims) => n + (dims.length ? dims.reduce((a, b) => a * b, 1) : 1), 0);
  return {
    context,
    architecture: `ONNX graph ${summary.graphName || '(unnamed)'} (${convs.length} convolutions, opset ${summary.opsets[''] ?? '?'})`,
    parameterCount,
    convolutions: convs.length,
  };
}

/**
 * Refuses a model whose initializers name external data files outside its own folder (an absolute
 * path or `..`), before any runtime opens them: a model file must not make the reader open others.
 */
export function refuseUnsafeExternalData(file: string, summary: OnnxModelSummary): void {
  for (const location of summary.externalDataLocations) {
    const problem = externalDataProblem(location);
    if (problem) {
      throw new UnsafeModelFileError(
        file,
        `an initializer's external data location ${JSON.stringify(location)} ${problem}; refused (external data must be a file in the model's folder)`,
      );
    }
  }
}
