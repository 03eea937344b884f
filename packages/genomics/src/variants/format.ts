/**
 * Formats a number with `digits` decimals exactly as Python's `'{:.Nf}'.format(x)` does, so score
 * strings match the reference tools byte for byte. Python rounds the exact binary value of the
 * double, half to even on a true tie (`0.125` -> `0.12`), and keeps the sign of zero and of values
 * that round to zero (`-1e-14` -> `-0.00`, `-0.0` -> `-0.00`). `Number.prototype.toFixed` rounds
 * ties away from zero and prints `-0` as `0.00`, so it cannot be used.
 */
export function formatFixed(x: number, digits = 2): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) throw new RangeError(`digits must be an integer from 0 to 100, got ${digits}`);
  if (Number.isNaN(x)) return 'nan';
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return negative ? '-inf' : 'inf';
  const { mantissa, exponent } = decompose(Math.abs(x));
  // |x| * 10^digits = mantissa * 10^digits * 2^exponent, as an exact fraction num / den.
  let num = mantissa * 10n ** BigInt(digits);
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  let q = num / den;
  const twice = (num - q * den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  let text = q.toString();
  if (digits > 0) {
    text = text.padStart(digits + 1, '0');
    text = `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  }
  return negative ? `-${text}` : text;
}

/** The exact value of a finite non-negative double as mantissa * 2^exponent (integers). */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
