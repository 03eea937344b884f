/**
 * Which onnxruntime execution provider serves a device. `gpu` tries CUDA (present only when
 * onnxruntime-node was installed with its CUDA download) and then WebGPU (bundled in the npm
 * package: Dawn over Vulkan on Linux, D3D12 on Windows, Metal on macOS).
 */
import type { Device } from '@metaspliceai/core';
import type { EnsembleOptions } from './graph-plan.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

interface GpuProvider {
  name: Exclude<ExecutionProvider, 'cpu'>;
  /** How onnxruntime says that the provider cannot run here (as opposed to rejecting the graph). */
  missing: RegExp;
  /** What a user needs for it. */
  needs: string;
}

const GPU_PROVIDERS: readonly GpuProvider[] = [
  {
    name: 'cuda',
    missing: /cuda|providers_shared|shared librar/i,
    needs: 'CUDA: reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (needs CUDA 12 and cuDNN 9)',
  },
  {
    name: 'webgpu',
    missing: /webgpu adapter|no supported adapters|webgpu_context|dawn|vulkan/i,
    needs:
      'WebGPU: a GPU driver with Vulkan and the loader libraries (Debian/Ubuntu: apt install libvulkan1 libglvnd0 libglx0 libegl1 libgl1), D3D12 on Windows, Metal on macOS',
  },
];

/**
 * How to lower an ensemble for a device: on the CPU the defaults (stage graphs run the members'
 * trunk as grouped convolutions, which onnxruntime's blocked kernels split over members and batch);
 * the WebGPU provider runs grouped convolutions with a naive kernel, so on a GPU every graph keeps a
 * branch per member, as measured there.
 */
export function ensembleOptionsFor(device: Device): EnsembleOptions {
  return device === 'gpu' ? { fuseMembers: false } : {};
}

/** Set `METASPLICEAI_GPU_PROVIDER` to `cuda` or `webgpu` to try only that one. */
export const GPU_PROVIDER_ENV = 'METASPLICEAI_GPU_PROVIDER';

/** The provider that opened a GPU session: later sessions skip the probing. */
let servingGpu: GpuProvider | undefined;
/** The error of each list of providers found missing: later sessions fail at once, without probing. */
const missingAll = new Map<string, Error>();

/** The providers to try for a device, in order. Throws the earlier error when none of them can run here. */
export function providersFor(device: Device): readonly ExecutionProvider[] {
  if (device === 'cpu') return ['cpu'];
  if (servingGpu) return [servingGpu.name];
  const candidates = gpuCandidates();
  const known = missingAll.get(candidates.join());
  if (known) throw known;
  return candidates;
}

function gpuCandidates(): ExecutionProvider[] {
  const only = process.env[GPU_PROVIDER_ENV];
  const chosen = GPU_PROVIDERS.filter((p) => !only || p.name === only);
  return (chosen.length > 0 ? chosen : GPU_PROVIDERS).map((p) => p.name);
}

/** Whether `message`, from opening a session on `provider`, means the provider cannot run here. */
export function providerMissing(provider: ExecutionProvider, message: string): boolean {
  return GPU_PROVIDERS.find((p) => p.name === provider)?.missing.test(message) ?? false;
}

/** Remembers which GPU provider worked. */
export function providerServed(provider: ExecutionProvider): void {
  servingGpu ??= GPU_PROVIDERS.find((p) => p.name === provider);
}

/** Remembers that none of the GPU providers tried can run here. */
export function providersUnavailable(error: Error): void {
  missingAll.set(gpuCandidates().join(), error);
}

/** Whether probing is over: a GPU provider worked, or none of those to try can. */
export function gpuSettled(): boolean {
  return servingGpu !== undefined || missingAll.has(gpuCandidates().join());
}

/** What each GPU provider needs, for the hint of a `DeviceUnavailableError`. */
export function gpuRequirements(): string {
  return GPU_PROVIDERS.map((p) => p.needs).join('; ');
}
