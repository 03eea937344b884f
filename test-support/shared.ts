import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `../shared` beside the checkout: real weights, fixtures and data (read-only in CI). */
export const SHARED = resolve(REPO, '..', 'shared');

/**
 * The models folder tests use: $METASPLICEAI_MODELS_DIR (CI sets ../shared/models), else
 * ../shared/models. Tests that need real weights fail loudly when it is missing.
 */
export const MODELS_DIR = resolve(REPO, process.env.METASPLICEAI_MODELS_DIR ?? resolve(SHARED, 'models'));

if (!existsSync(MODELS_DIR)) {
  throw new Error(`the models folder ${MODELS_DIR} does not exist: set METASPLICEAI_MODELS_DIR to the folder holding spliceai/ and openspliceai/`);
}
