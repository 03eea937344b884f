export { createPwmAdapter, createPwmAdapter as default, PWM_LICENSE } from './adapter.js';
export { pwmModelInfoSchema, type PwmModelInfo } from './metadata.js';
export {
  PWM_FORMAT,
  PWM_FORMAT_VERSION,
  pwmModelFileSchema,
  pwmMotifSchema,
  readPwmModelFile,
  requiredHalfContext,
  type PwmModelFile,
  type PwmMotif,
} from './model-file.js';
export { PWM_FILE_PATTERNS, parsePwmPath } from './paths.js';
export { compileMotif, createPwmModel, motifScore, siteProbabilities, type CompiledMotif } from './scorer.js';
