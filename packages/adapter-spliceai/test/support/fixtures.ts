import { join } from 'node:path';
import { MODELS_DIR } from '../../../../test-support/shared.js';

export { readExpected, readFixtureSequences } from '../../../../test-support/fixtures.js';

/** Absolute path of `spliceai/spliceai<i>.h5` in the models folder. */
export function spliceaiFile(i: number): string {
  return join(MODELS_DIR, 'spliceai', `spliceai${i}.h5`);
}
