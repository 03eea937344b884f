import { ModelFileError } from '@metaspliceai/core';
import type { KerasLayer } from './graph.js';

/** Per side of the length axis: positions removed, and how far an output position's inputs reach. */
interface Span {
  lostLeft: number;
  lostRight: number;
  reachLeft: number;
  reachRight: number;
}

/**
 * Reads a network's context (total flank) from its layers rather than from a name. Two independent
 * counts must agree: what the network removes (crops and 'valid' convolutions), and how far its
 * convolutions reach (the sum of `dilation * (k - 1)` along the widest path, which for SpliceAI is
 * `2 * sum(AR * (W - 1))`). If they differed, outputs near a tile's edge would depend on padding
 * inside the network and tiled predictions would change with the tile size; such a file is refused.
 */
export function inferContext(file: string, layers: readonly KerasLayer[], output: string): number {
  const spans = new Map<string, Span>();
  for (const layer of layers) {
    const ins = layer.inputs.map((name) => spans.get(name)!);
    let span: Span;
    switch (layer.kind) {
      case 'InputLayer':
        span = { lostLeft: 0, lostRight: 0, reachLeft: 0, reachRight: 0 };
        break;
      case 'Conv1D': {
        const { kernelShape, dilation, padding } = layer.conv!;
        const total = dilation * (kernelShape[0] - 1);
        const base = ins[0]!;
        if (padding === 'same') {
          // TensorFlow's SAME puts the smaller half of the padding on the left.
          const left = Math.floor(total / 2);
          span = { ...base, reachLeft: base.reachLeft + left, reachRight: base.reachRight + total - left };
        } else {
          // 'valid': output i reads inputs i .. i + total, and the length shrinks at the right.
          span = { ...base, lostRight: base.lostRight + total, reachRight: base.reachRight + total };
        }
        break;
      }
      case 'Cropping1D': {
        const [a, b] = layer.crop!;
        const base = ins[0]!;
        span = { ...base, lostLeft: base.lostLeft + a, lostRight: base.lostRight + b };
        break;
      }
      case 'Add': {
        const first = ins[0]!;
        for (const other of ins) {
          if (other.lostLeft !== first.lostLeft || other.lostRight !== first.lostRight) {
            throw new ModelFileError(file, `layer ${layer.name} adds tensors of different lengths or alignments`);
          }
        }
        span = {
          ...first,
          reachLeft: Math.max(...ins.map((s) => s.reachLeft)),
          reachRight: Math.max(...ins.map((s) => s.reachRight)),
        };
        break;
      }
      default:
        span = ins[0]!;
    }
    spans.set(layer.name, span);
  }
  const out = spans.get(output)!;
  if (out.lostLeft !== out.lostRight) {
    throw new ModelFileError(file, `the network crops ${out.lostLeft} nt on the left but ${out.lostRight} nt on the right; SpliceAI crops both sides equally`);
  }
  if (out.reachLeft !== out.lostLeft || out.reachRight !== out.lostRight) {
    throw new ModelFileError(
      file,
      `the network crops ${out.lostLeft + out.lostRight} nt but its convolutions reach ${out.reachLeft + out.reachRight} nt; the context is ambiguous`,
    );
  }
  return out.lostLeft + out.lostRight;
}
