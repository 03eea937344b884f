import { describe, it, expect } from 'vitest';
import {
  ProtoWriter,
  WireType,
  decodePackedVarints,
  decodeString,
  encodeModel,
  floatTensor,
  inspectModel,
  int64Tensor,
  readFields,
  varintToNumber,
  OnnxDataType,
} from '../src/index.js';

describe('protobuf wire format', () => {
  it("writes varints, negatives as 10-byte two's complement", () => {
    expect([...new ProtoWriter().rawVarint(1).finish()]).toEqual([1]);
    expect([...new ProtoWriter().rawVarint(300).finish()]).toEqual([0xac, 0x02]);
    const neg = new ProtoWriter().rawVarint(-1).finish();
    expect(neg.length).toBe(10);
    expect(neg[9]).toBe(1);
    expect(() => new ProtoWriter().rawVarint(2 ** 60)).toThrow(RangeError);
  });

  it('round-trips fields through readFields', () => {
    const w = new ProtoWriter().varint(1, 7).string(2, 'héllo').float(3, 1.5).packedVarints(4, [1, -2, 300]).varint(5, -5);
    const fields = [...readFields(w.finish())];
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([
      [1, 0],
      [2, 2],
      [3, 5],
      [4, 2],
      [5, 0],
    ]);
    expect(fields[0].value).toBe(7n);
    expect(decodeString(fields[1].value as Uint8Array)).toBe('héllo');
    const f3 = fields[2].value as Uint8Array;
    expect(new DataView(f3.buffer, f3.byteOffset, 4).getFloat32(0, true)).toBe(1.5);
    expect(decodePackedVarints(fields[3].value as Uint8Array)).toEqual([1n, -2n, 300n]);
    expect(varintToNumber(fields[4].value as bigint)).toBe(-5);
    expect(fields[1].wireType).toBe(WireType.LengthDelimited);
  });

  it('rejects truncated input', () => {
    const bytes = new ProtoWriter().string(1, 'abcdef').finish();
    expect(() => [...readFields(bytes.subarray(0, 4))]).toThrow(/overruns/);
  });

  it('encodes a ModelProto that inspectModel reads back', () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 17,
      producerName: 'test',
      producerVersion: '1',
      metadata: { family: 'x' },
      graph: {
        name: 'g',
        nodes: [
          { opType: 'Slice', name: 's', inputs: ['x', 'st', 'en', 'ax'], outputs: ['y'] },
          { opType: 'Softmax', inputs: ['y'], outputs: ['z'], attributes: [{ name: 'axis', kind: 'int', value: -1 }] },
        ],
        initializers: [
          int64Tensor('st', [1], [1]),
          int64Tensor('en', [1], [-1]),
          int64Tensor('ax', [1], [2]),
          floatTensor('unused', [2], Float32Array.of(1, 2)),
        ],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 3, 'length'] }],
        outputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: ['batch', 3, 'out'] }],
      },
    });
    const s = inspectModel(bytes);
    expect(s.irVersion).toBe(8);
    expect(s.opsets).toEqual({ '': 17 });
    expect(s.graphName).toBe('g');
    expect(s.metadata).toEqual({ family: 'x' });
    expect(s.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 3, 'length'] }]);
    expect(s.outputs[0].shape).toEqual(['batch', 3, 'out']);
    expect(s.nodes.map((n) => n.opType)).toEqual(['Slice', 'Softmax']);
    expect(s.nodes[1].attributes).toEqual({ axis: -1 });
    expect(s.initializerNames).toEqual(['st', 'en', 'ax', 'unused']);
    expect(() => floatTensor('bad', [3], Float32Array.of(1))).toThrow(RangeError);
  });
});
