import {
  type BaseModelAdapter,
  DeviceUnavailableError,
  InvalidArgumentError,
  type LoadedModel,
  type LoadOptions,
  ModelFileError,
  type ModelFileInspection,
  SPECIFICATION_VERSION,
} from '@metaspliceai/core';
import { pwmModelInfoSchema } from './metadata.js';
import { readPwmModelFile } from './model-file.js';
import { PWM_FILE_PATTERNS, parsePwmPath } from './paths.js';
import { createPwmModel } from './scorer.js';

/** The model files this package generates are MIT, like its code; the frequencies are published facts. */
export const PWM_LICENSE = 'MIT';

/**
 * A third-party base-model adapter written only against `@metaspliceai/core`'s public API: donor
 * and acceptor position weight matrices read from small JSON files. It needs no runtime and no
 * downloaded weights, so it shows the whole contract (patterns, inspection, metadata, load,
 * predict, typed errors) in a few files, and passes the same conformance kit as the built-in ones.
 */
export function createPwmAdapter(): BaseModelAdapter {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'pwm',
    displayName: 'Splice-site PWM (example)',
    capabilities: { devices: ['cpu'], backends: ['js'], contexts: [50], maxBatchSize: 256 },
    filePatterns: PWM_FILE_PATTERNS,
    defaultLicense: PWM_LICENSE,
    // Every member predicts the same neither/acceptor/donor softmax (SPLICE_CLASS_TRACKS): a set is their mean.
    ensemble: 'mean',
    scoring: { defaultRule: 'spliceai', variantEncoding: 'acgt' },
    metadataSchema: pwmModelInfoSchema,
    parsePath: parsePwmPath,

    describeSet(set) {
      const species = /^pwm-(.+)$/.exec(set.name)?.[1];
      return species ? { species } : {};
    },

    async inspect(file: string): Promise<ModelFileInspection> {
      const model = await readPwmModelFile(file);
      const { acceptor, donor } = model.motifs;
      return {
        context: model.context,
        architecture: `position weight matrices v${model.version}: acceptor ${acceptor.frequencies.length} nt, donor ${donor.frequencies.length} nt`,
        parameterCount: 4 * (acceptor.frequencies.length + donor.frequencies.length + 1) + 2,
        format: 'pwm-json',
      };
    },

    async load({ file, context, backend, device = 'cpu' }: LoadOptions): Promise<LoadedModel> {
      if (backend && backend !== 'auto' && backend !== 'js') {
        throw new InvalidArgumentError(`the PWM adapter runs on the js backend, not ${backend}`, { hint: 'leave --backend out, or pass js' });
      }
      if (device !== 'cpu') throw new DeviceUnavailableError(`the PWM adapter runs on the cpu only, not ${device}`);
      const model = await readPwmModelFile(file);
      if (model.context !== context) {
        throw new ModelFileError(file, `the file is a ${model.context}-nt model, but context ${context} was asked for`);
      }
      return createPwmModel(model, context);
    },
  };
}
