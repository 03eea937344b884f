import type { PathHints } from '@metaspliceai/core';

/** Model files are `*.pwm.json`, anywhere under the models root (`pwm-<name>/<context>nt/` by convention). */
export const PWM_FILE_PATTERNS: readonly RegExp[] = [/\.pwm\.json$/i];

/**
 * Reads the set name from the nearest `pwm-*` folder (else the nearest folder that is not
 * `<n>nt`, else `pwm`), the context hint from a `<n>nt` folder, and the member id from the file
 * name. Only hints: inspection reads the real context from the file.
 */
export function parsePwmPath(relativePath: string): PathHints {
  const parts = relativePath.split('/');
  const memberId = parts[parts.length - 1].replace(/\.pwm\.json$/i, '');
  const folders = parts.slice(0, -1).reverse();
  const contextFolder = folders.map((f) => /^(\d+)nt$/i.exec(f)).find((m) => m !== null);
  const setName = folders.find((f) => /^pwm-/i.test(f)) ?? folders.find((f) => !/^\d+nt$/i.test(f)) ?? 'pwm';
  return { setName: setName.toLowerCase(), memberId, context: contextFolder ? Number(contextFolder[1]) : undefined };
}
