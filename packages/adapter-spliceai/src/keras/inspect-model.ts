import path from 'node:path';
import type { ModelFileInspection } from '@metaspliceai/core';
import { withH5File } from './h5-file.js';
import { parseKerasFile } from './read-model.js';

/**
 * What discovery and `models list` need from a SpliceAI `.h5` file, read from the file itself: its
 * context, an architecture label and the parameter count. It validates exactly as
 * {@link readKerasModel} does but reads only shapes, not weight values, so listing many files stays
 * fast and a file that would fail to load already fails here.
 */
export async function inspectKerasModel(file: string): Promise<ModelFileInspection & { format: 'keras-h5' }> {
  const absolute = path.resolve(file);
  const graph = await withH5File(absolute, (h5) => parseKerasFile(absolute, h5, false));
  return {
    context: graph.context,
    architecture: `SpliceNet-${graph.context} (${graph.residualUnits} residual units, ${graph.channels} channels)`,
    parameterCount: graph.parameterCount,
    format: 'keras-h5',
  };
}
