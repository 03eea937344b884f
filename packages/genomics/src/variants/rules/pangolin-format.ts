/**
 * Pangolin's numbers as upstream `pangolin.py` prints them: `round(x, 2)` on a numpy scalar is
 * numpy's rounding (scale by 100, round half to even, divide by 100), done in the scalar's dtype,
 * and the f-string prints the float64 repr of the result. So a float32 0.11 prints as
 * `0.10999999940395355`, a float64 one (deletions, where numpy's zeros promote) as `0.11`.
 */

/** What numpy calls `rint`: the nearest integer, ties to even; the sign of zero is kept. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  let r = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  if (r === 0 && (x < 0 || Object.is(x, -0))) r = -0;
  return r;
}

/** numpy's `round(x, 2)` of a float32 scalar: float32 multiply, rint, float32 divide. */
export function roundFloat32(x: number, decimals = 2): number {
  const scale = 10 ** decimals;
  return Math.fround(roundHalfEven(Math.fround(Math.fround(x) * scale)) / scale);
}

/** numpy's `round(x, 2)` of a float64 scalar. */
export function roundFloat64(x: number, decimals = 2): number {
  const scale = 10 ** decimals;
  return roundHalfEven(x * scale) / scale;
}

/**
 * Python's `repr(float)`: the shortest string that reads back to the double, `.0` on integral
 * values, `-0.0`, and scientific notation below 1e-4 or from 1e16 (`1e-05`, `1e+16`).
 */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(v);
  if (abs < 1e-4 || abs >= 1e16) {
    const [mantissa, exponent] = v.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    const digits = exponent.replace(/^[+-]/, '').padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  const text = String(v);
  return Number.isInteger(v) ? `${text}.0` : text;
}

/** A Pangolin score as upstream prints it: rounded in its dtype, then Python's float repr. */
export function formatPangolinScore(x: number, dtype: 'float32' | 'float64'): string {
  return pythonFloatRepr(dtype === 'float32' ? roundFloat32(x) : roundFloat64(x));
}
