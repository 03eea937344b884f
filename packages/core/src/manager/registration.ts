import { type BaseModelAdapter, SPECIFICATION_VERSION } from '../adapter/contract.js';
import { AdapterRegistrationError } from '../errors.js';
import { VARIANT_ENCODINGS } from '../sequence/variant-encoding.js';

const ID = /^[a-z][a-z0-9-]*$/;

/**
 * Checks an adapter's shape before it is registered, so a broken third-party adapter fails at
 * registration with a message naming what is wrong, not later in the middle of a run.
 */
export function checkAdapter(adapter: unknown, registered: ReadonlyMap<string, BaseModelAdapter>): asserts adapter is BaseModelAdapter {
  if (typeof adapter !== 'object' || adapter === null) {
    throw new AdapterRegistrationError(`an adapter must be an object, got ${adapter === null ? 'null' : typeof adapter}`, {
      hint: 'pass the object an adapter factory returns, e.g. register(createSpliceAIAdapter())',
    });
  }
  const a = adapter as Partial<BaseModelAdapter> & Record<string, unknown>;
  const name = typeof a.id === 'string' ? `adapter "${a.id}"` : 'adapter';
  if ((a.specificationVersion as string) === 'v1') {
    throw new AdapterRegistrationError(
      `${name} implements specification "v1", this core speaks "${SPECIFICATION_VERSION}": v2 replaced the adapter's outputClasses with tracks declared by each loaded model, and added ensemble ('mean' or 'adapter') and scoring ({ defaultRule, variantEncoding })`,
      { hint: 'upgrade the adapter to a release built for @metaspliceai/core with contract v2, or use an older core' },
    );
  }
  if (a.specificationVersion !== SPECIFICATION_VERSION) {
    throw new AdapterRegistrationError(
      `${name} implements specification ${JSON.stringify(a.specificationVersion)}, this core speaks "${SPECIFICATION_VERSION}"`,
      { hint: 'upgrade the adapter or @metaspliceai/core so that they agree' },
    );
  }
  if (typeof a.id !== 'string' || !ID.test(a.id)) {
    throw new AdapterRegistrationError(`${name}: id must be lower-case letters, digits and dashes, got ${JSON.stringify(a.id)}`);
  }
  const problems: string[] = [];
  if (typeof a.displayName !== 'string' || !a.displayName) problems.push('displayName must be a non-empty string');
  const caps = a.capabilities;
  if (!caps || !Array.isArray(caps.devices) || caps.devices.length === 0 || !caps.devices.every((d) => d === 'cpu' || d === 'gpu')) {
    problems.push("capabilities.devices must list 'cpu' and/or 'gpu'");
  }
  if (!caps || !Array.isArray(caps.backends) || caps.backends.length === 0) problems.push('capabilities.backends must list at least one backend');
  if (!caps || !Array.isArray(caps.contexts) || !caps.contexts.every((c) => Number.isInteger(c) && c > 0 && c % 2 === 0)) {
    problems.push('capabilities.contexts must be even positive integers');
  }
  if (!caps || !Number.isInteger(caps.maxBatchSize) || caps.maxBatchSize < 1) problems.push('capabilities.maxBatchSize must be a positive integer');
  if (!Array.isArray(a.filePatterns) || a.filePatterns.length === 0 || !a.filePatterns.every((p) => p instanceof RegExp)) {
    problems.push('filePatterns must be a non-empty array of RegExp');
  } else if (a.filePatterns.some((p) => p.global || p.sticky)) {
    problems.push('filePatterns must not use the g or y flags (RegExp.test would keep state between files)');
  }
  if (a.ensemble !== 'mean' && a.ensemble !== 'adapter') problems.push("ensemble must be 'mean' or 'adapter'");
  if (a.ensemble === 'adapter' && typeof a.loadEnsemble !== 'function') problems.push("ensemble 'adapter' needs a loadEnsemble function");
  const scoring = a.scoring;
  if (!scoring || typeof scoring.defaultRule !== 'string' || !scoring.defaultRule) problems.push('scoring.defaultRule must name a scoring rule');
  if (!scoring || !(VARIANT_ENCODINGS as readonly unknown[]).includes(scoring.variantEncoding)) {
    problems.push(`scoring.variantEncoding must be ${VARIANT_ENCODINGS.map((e) => `'${e}'`).join(' or ')}`);
  }
  const schema = a.metadataSchema as { safeParse?: unknown } | undefined;
  if (!schema || typeof schema.safeParse !== 'function') problems.push('metadataSchema must be a zod schema');
  for (const fn of ['parsePath', 'inspect', 'load'] as const) {
    if (typeof a[fn] !== 'function') problems.push(`${fn} must be a function`);
  }
  for (const fn of ['describeSet', 'describeRuntimes', 'loadEnsemble'] as const) {
    if (a[fn] !== undefined && typeof a[fn] !== 'function') problems.push(`${fn}, when given, must be a function`);
  }
  if (problems.length > 0) {
    throw new AdapterRegistrationError(`${name} is not a valid base-model adapter: ${problems.join('; ')}`, {
      hint: 'run the conformance kit (@metaspliceai/core/testing) against it',
    });
  }
  if (registered.has(a.id)) {
    throw new AdapterRegistrationError(`an adapter with id "${a.id}" is already registered`, {
      hint: 'register each adapter once; give a third-party adapter its own id',
    });
  }
}
