/**
 * Lazy access to onnxruntime-node, a peer dependency: importing this package must not load a
 * native runtime (or fail) until a model is actually created.
 */
import { RuntimeMissingError } from '@metaspliceai/core';

/** The onnxruntime-node module (internal: not exported from the package, so its types stay optional). */
export type OrtModule = typeof import('onnxruntime-node');

/** An onnxruntime inference session. */
export type OrtSession = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

let cached: Promise<OrtModule> | undefined;

/**
 * Imports onnxruntime-node once. Sets `ORT_DISABLE_TELEMETRY=1` first unless the user set it, since
 * the runtime otherwise queues telemetry under the home folder. Throws `RuntimeMissingError` when the
 * package is not installed (or its native binding cannot load).
 */
export function loadOnnxRuntime(): Promise<OrtModule> {
  cached ??= (async () => {
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    try {
      const imported = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
      // CommonJS interop: named exports may only be on `default` under some loaders.
      const mod = imported.InferenceSession ? imported : (imported.default as OrtModule);
      // Its failures reach users as typed errors; its own log would print them a second time,
      // with colour codes (e.g. once per provider probed for a GPU).
      mod.env.logLevel = 'fatal';
      return mod;
    } catch (error) {
      cached = undefined; // let a later call retry after the user installs it
      throw new RuntimeMissingError('onnxruntime-node', 'Running ONNX models', { cause: error });
    }
  })();
  return cached;
}

/** Whether onnxruntime-node can be loaded here; lets an adapter pick another backend for `auto`. */
export async function isOnnxRuntimeAvailable(): Promise<boolean> {
  try {
    await loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}
