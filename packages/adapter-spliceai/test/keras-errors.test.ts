import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ModelFileError } from '@metaspliceai/core';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectKerasModel, readKerasModel } from '../src/keras/index.js';
import { copyWithConfig, plainH5File, randomBytesFile, removeTempDirs, tempDir, truncatedCopy } from './support/h5-copies.js';

afterAll(removeTempDirs);

/** Both entry points must refuse the file with a ModelFileError that names it and matches `pattern`. */
async function expectModelFileError(file: string, pattern: RegExp): Promise<void> {
  for (const read of [readKerasModel, inspectKerasModel]) {
    const error = await read(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ModelFileError.isInstance(error), `${read.name} threw ${String(error)}`).toBe(true);
    const typed = error as ModelFileError;
    expect(typed.file).toBe(path.resolve(file));
    expect(typed.message).toContain(path.resolve(file));
    expect(typed.message).toMatch(pattern);
  }
}

/** Finds a layer entry in a Keras model_config by name. */
function layer(config: any, name: string): any {
  return config.config.layers.find((l: any) => l.name === name);
}

describe('files that are not readable Keras models', () => {
  it('a path that does not exist', async () => {
    await expectModelFileError(path.join(tempDir(), 'missing.h5'), /does not exist/);
  });

  it('a directory', async () => {
    const dir = path.join(tempDir(), 'folder.h5');
    mkdirSync(dir);
    await expectModelFileError(dir, /is a directory/);
  });

  it('an empty file', async () => {
    const file = path.join(tempDir(), 'empty.h5');
    writeFileSync(file, '');
    await expectModelFileError(file, /is empty/);
  });

  it('random bytes', async () => {
    await expectModelFileError(randomBytesFile(), /not an HDF5 file/);
  });

  it('a truncated download (most of the file)', async () => {
    await expectModelFileError(truncatedCopy(3_000_000), /truncated: it has 3000000 bytes but its header says 3131720/);
  });

  it('a truncated download (only the header)', async () => {
    await expectModelFileError(truncatedCopy(100_000), /truncated/);
  });

  it('an HDF5 file that is not a Keras model', async () => {
    await expectModelFileError(await plainH5File(), /no model_config attribute/);
  });
});

describe('model_config checks', () => {
  it('refuses an unsupported layer class, naming the layer and the supported ones', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'activation_3').class_name = 'LSTM';
      return config;
    });
    await expectModelFileError(
      file,
      /layer activation_3 of class LSTM is not supported; SpliceAI files contain InputLayer, Conv1D, BatchNormalization, Activation, Add, Cropping1D/,
    );
  });

  it('refuses a setting the runtime would get wrong (causal padding)', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'conv1d_5').config.padding = 'causal';
      return config;
    });
    await expectModelFileError(file, /layer conv1d_5 \(Conv1D\) has a setting that is not supported: padding/);
  });

  it('refuses an unsupported activation', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'activation_1').config.activation = 'tanh';
      return config;
    });
    await expectModelFileError(file, /layer activation_1 \(Activation\).*activation/);
  });

  it('refuses a config that is not JSON', async () => {
    await expectModelFileError(await copyWithConfig(() => '{"class_name": "Model", '), /model_config attribute is not valid JSON/);
  });

  it('refuses a Sequential model config', async () => {
    const file = await copyWithConfig((config) => ({ class_name: 'Sequential', config: config.config.layers }));
    await expectModelFileError(file, /not a Keras 2 functional model/);
  });

  it('refuses a weight whose shape disagrees with the config', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'conv1d_1').config.filters = 16;
      return config;
    });
    await expectModelFileError(file, /weight conv1d_1\/conv1d_1\/kernel:0 has shape \(1, 4, 32\), the config needs \(1, 4, 16\)/);
  });

  it('refuses an inconsistent context (asymmetric crop)', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'cropping1d_1').config.cropping = [5000, 4000];
      return config;
    });
    await expectModelFileError(file, /crops 5000 nt on the left but 4000 nt on the right/);
  });

  it('refuses a crop that does not match the convolutions', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'cropping1d_1').config.cropping = [4000, 4000];
      return config;
    });
    await expectModelFileError(file, /crops 8000 nt but its convolutions reach 10000 nt/);
  });

  it('refuses a layer reading a layer that does not exist', async () => {
    const file = await copyWithConfig((config) => {
      layer(config, 'add_1').inbound_nodes[0][1][0] = 'nowhere';
      return config;
    });
    await expectModelFileError(file, /layer add_1 reads nowhere, which is not a layer of the model/);
  });
});
