/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto) this package writes and reads, as plain
 * TypeScript objects plus an encoder and a small inspector. Field numbers below are the ones in
 * onnx.proto; only the fields a SpliceAI-family graph needs are covered.
 */
import { ProtoWriter, WireType, decodePackedVarints, decodeString, readFields, varintToNumber } from './protobuf.js';

/** `TensorProto.DataType` values used here. */
export const OnnxDataType = {
  FLOAT: 1,
  INT64: 7,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** `AttributeProto.AttributeType` values used here. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** A graph initializer: a named constant tensor stored as little-endian `raw_data`. */
export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  dataType: OnnxDataType;
  rawData: Uint8Array;
}

/** A node attribute; only the kinds a convolutional graph needs. */
export type OnnxAttribute =
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'string'; value: string };

/** One operator application (`NodeProto`), in the default ONNX domain. */
export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly OnnxAttribute[];
}

/** A graph input or output: a float/int tensor whose dims are fixed numbers or symbolic names. */
export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataType;
  shape: readonly (number | string)[];
}

/** `GraphProto`: nodes in topological order, initializers, inputs and outputs. */
export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  docString?: string;
}

/** `ModelProto`: one graph plus the IR version and the default-domain opset it binds to. */
export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float32 initializer; copies `data` into little-endian bytes. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  checkElementCount(name, dims, data.length);
  let rawData: Uint8Array;
  if (HOST_IS_LITTLE_ENDIAN) {
    rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  } else {
    rawData = new Uint8Array(data.length * 4);
    const view = new DataView(rawData.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  }
  return { name, dims: [...dims], dataType: OnnxDataType.FLOAT, rawData };
}

/** An int64 initializer (Slice starts/ends/axes and the like). */
export function int64Tensor(name: string, dims: readonly number[], data: readonly (number | bigint)[]): OnnxTensor {
  checkElementCount(name, dims, data.length);
  const rawData = new Uint8Array(data.length * 8);
  const view = new DataView(rawData.buffer);
  data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [...dims], dataType: OnnxDataType.INT64, rawData };
}

function checkElementCount(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new RangeError(`tensor ${name}: dims [${dims}] hold ${expected} values, got ${count}`);
}

function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedVarints(1, t.dims); // dims
  w.varint(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.rawData); // raw_data
  return w;
}

function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name); // name
  switch (a.kind) {
    case 'float':
      w.varint(20, AttributeType.FLOAT).float(2, a.value); // type, f
      break;
    case 'int':
      w.varint(20, AttributeType.INT).varint(3, a.value); // type, i
      break;
    case 'string':
      w.varint(20, AttributeType.STRING).string(4, a.value); // type, s
      break;
    case 'ints':
      w.varint(20, AttributeType.INTS);
      for (const v of a.value) w.varint(8, v); // ints (proto2 repeated, not packed)
      break;
  }
  return w;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i); // input
  for (const o of n.outputs) w.string(2, o); // output
  if (n.name !== undefined) w.string(3, n.name); // name
  w.string(4, n.opType); // op_type
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a)); // attribute
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter(); // TensorShapeProto
  for (const d of v.shape) {
    const dim = new ProtoWriter(); // TensorShapeProto.Dimension
    if (typeof d === 'number')
      dim.varint(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim); // dim
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape); // elem_type, shape
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  return new ProtoWriter().string(1, v.name).message(2, type); // name, type
}

function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n)); // node
  w.string(2, g.name); // name
  for (const t of g.initializers) w.message(5, encodeTensor(t)); // initializer
  if (g.docString !== undefined) w.string(10, g.docString); // doc_string
  for (const v of g.inputs) w.message(11, encodeValueInfo(v)); // input
  for (const v of g.outputs) w.message(12, encodeValueInfo(v)); // output
  return w;
}

/** Serializes a model to `ModelProto` bytes, ready for `InferenceSession.create` or a `.onnx` file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, model.irVersion); // ir_version
  w.string(2, model.producerName); // producer_name
  w.string(3, model.producerVersion); // producer_version
  if (model.docString !== undefined) w.string(6, model.docString); // doc_string
  w.message(7, encodeGraph(model.graph)); // graph
  w.message(8, new ProtoWriter().string(1, '').varint(2, model.opsetVersion)); // opset_import {domain, version}
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value)); // metadata_props {key, value}
  }
  return w.finish().slice();
}

/** What `inspectModel` reads back: enough to check a model's interface and its last operators. */
export interface OnnxModelSummary {
  irVersion: number;
  producerName: string;
  /** Opset versions by domain (`''` = the default ONNX domain). */
  opsets: Record<string, number>;
  graphName: string;
  /** Graph inputs that are not initializers (old exporters list initializers as inputs too). */
  inputs: OnnxValueInfoSummary[];
  outputs: OnnxValueInfoSummary[];
  nodes: { opType: string; inputs: string[]; outputs: string[]; attributes: Record<string, number | number[] | string> }[];
  initializerNames: string[];
  /** Each initializer's dims, for parameter counts and kernel sizes. */
  initializerDims: Record<string, number[]>;
  /** The `location` of every initializer stored as external data (a file next to the model). */
  externalDataLocations: string[];
  metadata: Record<string, string>;
}

/** A graph input/output as read back: elem type 0 and empty shape when the file leaves them out. */
export interface OnnxValueInfoSummary {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/**
 * Reads a `ModelProto`'s interface and node list (not the weights' values). Used to check files
 * users bring (which operator produces the output, whether it is a softmax) and to test the encoder.
 * Throws `ProtoDecodeError` on malformed bytes.
 */
export function inspectModel(bytes: Uint8Array): OnnxModelSummary {
  const summary: OnnxModelSummary = {
    irVersion: 0,
    producerName: '',
    opsets: {},
    graphName: '',
    inputs: [],
    outputs: [],
    nodes: [],
    initializerNames: [],
    initializerDims: {},
    externalDataLocations: [],
    metadata: {},
  };
  const rawInputs: OnnxValueInfoSummary[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.wireType === WireType.Varint) summary.irVersion = Number(f.value);
    else if (f.field === 2 && f.wireType === WireType.LengthDelimited) summary.producerName = decodeString(f.value);
    else if (f.field === 8 && f.wireType === WireType.LengthDelimited) {
      let domain = '';
      let version = 0;
      for (const o of readFields(f.value)) {
        if (o.field === 1 && o.wireType === WireType.LengthDelimited) domain = decodeString(o.value);
        if (o.field === 2 && o.wireType === WireType.Varint) version = Number(o.value);
      }
      summary.opsets[domain] = version;
    } else if (f.field === 14 && f.wireType === WireType.LengthDelimited) {
      const [key, value] = readStringEntry(f.value);
      summary.metadata[key] = value;
    } else if (f.field === 7 && f.wireType === WireType.LengthDelimited) {
      for (const g of readFields(f.value)) {
        if (g.wireType !== WireType.LengthDelimited) continue;
        if (g.field === 1) summary.nodes.push(readNode(g.value));
        else if (g.field === 2) summary.graphName = decodeString(g.value);
        else if (g.field === 5) {
          const { name, dims, location } = readTensorHeader(g.value);
          summary.initializerNames.push(name);
          summary.initializerDims[name] = dims;
          if (location !== undefined) summary.externalDataLocations.push(location);
        } else if (g.field === 11) rawInputs.push(readValueInfo(g.value));
        else if (g.field === 12) summary.outputs.push(readValueInfo(g.value));
      }
    }
  }
  const initializers = new Set(summary.initializerNames);
  summary.inputs = rawInputs.filter((v) => !initializers.has(v.name));
  return summary;
}

/** A StringStringEntryProto { key = 1, value = 2 } (metadata_props, external_data). */
function readStringEntry(bytes: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  for (const e of readFields(bytes)) {
    if (e.wireType !== WireType.LengthDelimited) continue;
    if (e.field === 1) key = decodeString(e.value);
    if (e.field === 2) value = decodeString(e.value);
  }
  return [key, value];
}

function readNode(bytes: Uint8Array): OnnxModelSummary['nodes'][number] {
  const node: OnnxModelSummary['nodes'][number] = { opType: '', inputs: [], outputs: [], attributes: {} };
  for (const f of readFields(bytes)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    if (f.field === 1) node.inputs.push(decodeString(f.value));
    else if (f.field === 2) node.outputs.push(decodeString(f.value));
    else if (f.field === 4) node.opType = decodeString(f.value);
    else if (f.field === 5) {
      const [name, value] = readAttribute(f.value);
      if (value !== undefined) node.attributes[name] = value;
    }
  }
  return node;
}

function readAttribute(bytes: Uint8Array): [string, number | number[] | string | undefined] {
  let name = '';
  let value: number | number[] | string | undefined;
  const ints: number[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.wireType === WireType.LengthDelimited) name = decodeString(f.value);
    else if (f.field === 2 && f.wireType === WireType.Fixed32) {
      value = new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true);
    } else if (f.field === 3 && f.wireType === WireType.Varint) value = varintToNumber(f.value);
    else if (f.field === 4 && f.wireType === WireType.LengthDelimited) value = decodeString(f.value);
    else if (f.field === 8 && f.wireType === WireType.Varint) ints.push(varintToNumber(f.value));
    else if (f.field === 8 && f.wireType === WireType.LengthDelimited) {
      ints.push(...decodePackedVarints(f.value).map(Number)); // a packed writer is also legal
    }
  }
  return [name, ints.length > 0 ? ints : value];
}

function readTensorHeader(bytes: Uint8Array): { name: string; dims: number[]; location?: string } {
  let name = '';
  const dims: number[] = [];
  let location: string | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 8 && f.wireType === WireType.LengthDelimited) name = decodeString(f.value);
    else if (f.field === 1 && f.wireType === WireType.Varint) dims.push(varintToNumber(f.value));
    else if (f.field === 1 && f.wireType === WireType.LengthDelimited) dims.push(...decodePackedVarints(f.value).map(Number));
    else if (f.field === 13 && f.wireType === WireType.LengthDelimited) {
      // external_data entries; 'location' names the file.
      const [key, value] = readStringEntry(f.value);
      if (key === 'location') location = value;
    }
  }
  return { name, dims, location };
}

/**
 * Why an external-data `location` could reach outside the model's folder (absolute, a drive, a
 * `..` segment, a NUL), or undefined when it is a plain relative path. onnxruntime >= 1.2x checks
 * this itself; checking here keeps older runtimes from reading files a hostile model names.
 */
export function externalDataProblem(location: string): string | undefined {
  if (location === '') return 'is empty';
  if (location.includes('\0')) return 'contains a NUL byte';
  if (/^[/\\]/.test(location) || /^[A-Za-z]:/.test(location)) return 'is an absolute path';
  if (location.split(/[/\\]/).includes('..')) return "contains a '..' segment";
  return undefined;
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfoSummary {
  const info: OnnxValueInfoSummary = { name: '', elemType: 0, shape: [] };
  for (const f of readFields(bytes)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    if (f.field === 1) info.name = decodeString(f.value);
    else if (f.field === 2) {
      for (const t of readFields(f.value)) {
        if (t.field !== 1 || t.wireType !== WireType.LengthDelimited) continue; // tensor_type only
        for (const tt of readFields(t.value)) {
          if (tt.field === 1 && tt.wireType === WireType.Varint) info.elemType = Number(tt.value);
          if (tt.field === 2 && tt.wireType === WireType.LengthDelimited) {
            for (const d of readFields(tt.value)) {
              if (d.field !== 1 || d.wireType !== WireType.LengthDelimited) continue;
              let dim: number | string = '?';
              for (const dv of readFields(d.value)) {
                if (dv.field === 1 && dv.wireType === WireType.Varint) dim = varintToNumber(dv.value);
                if (dv.field === 2 && dv.wireType === WireType.LengthDelimited) dim = decodeString(dv.value);
              }
              info.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return info;
}
