// A minimal ONNX model writer for the matmul benchmark anchors: one MatMul or Gemm node with symbolic input shapes.

/** Protobuf wire helpers (varint, length-delimited), just enough for ModelProto. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
function field(num: number, bytes: number[]): number[] {
  return [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
}
function int(num: number, value: number): number[] {
  return [...varint(num << 3), ...varint(value)];
}
function str(num: number, text: string): number[] {
  return field(num, [...Buffer.from(text, 'utf8')]);
}

/** ValueInfoProto of a float tensor whose dims are symbolic names. */
function floatInput(fieldNum: number, name: string, dims: string[]): number[] {
  const shape = dims.flatMap((d) => field(1, str(2, d))); // Dimension { dim_param }
  const tensorType = [...int(1, 1), ...field(2, shape)]; // elem_type FLOAT, shape
  return field(fieldNum, [...str(1, name), ...field(2, field(1, tensorType))]);
}

/**
 * Serializes an ONNX model computing Y = op(A)·op(B) (opset 13): `Gemm` with transA/transB for
 * 2-D transposed operands; otherwise `MatMul` (batched when rank 3), behind a `Transpose` of each
 * transposed batched operand (onnxruntime's optimizer fuses the two into one FusedMatMul).
 */
export function matmulModel(options: { transA?: boolean; transB?: boolean; batched?: boolean }): Uint8Array {
  const { transA = false, transB = false, batched = false } = options;
  const gemm = !batched && (transA || transB);
  const intAttr = (name: string, value: number): number[] => field(5, [...str(1, name), ...int(3, value), ...int(20, 2)]);
  const intsAttr = (name: string, values: number[]): number[] =>
    field(5, [...str(1, name), ...values.flatMap((v) => int(8, v)), ...int(20, 7)]);
  const transpose = (input: string, output: string): number[] =>
    field(1, [...str(1, input), ...str(2, output), ...str(4, 'Transpose'), ...intsAttr('perm', [0, 2, 1])]);
  const nodes: number[] = [];
  let inA = 'A';
  let inB = 'B';
  if (batched && transA) nodes.push(...transpose('A', (inA = 'At')));
  if (batched && transB) nodes.push(...transpose('B', (inB = 'Bt')));
  nodes.push(
    ...field(1, [
      ...str(1, inA), ...str(1, inB), ...str(2, 'Y'), ...str(4, gemm ? 'Gemm' : 'MatMul'),
      ...(gemm ? [...intAttr('transA', transA ? 1 : 0), ...intAttr('transB', transB ? 1 : 0)] : []),
    ]),
  );
  const pre = batched ? ['batch'] : [];
  const graph = [
    ...nodes,
    ...str(2, 'matmul'),
    ...floatInput(11, 'A', [...pre, ...(transA ? ['k', 'm'] : ['m', 'k'])]),
    ...floatInput(11, 'B', [...pre, ...(transB ? ['n', 'k'] : ['k', 'n'])]),
    ...floatInput(12, 'Y', [...pre, 'm', 'n']),
  ];
  const model = [...int(1, 8), ...str(2, 'lmkit-bench'), ...field(7, graph), ...field(8, [...str(1, ''), ...int(2, 13)])];
  return new Uint8Array(model);
}
