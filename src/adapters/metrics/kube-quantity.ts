/**
 * Kubernetes resource.Quantity as the external metrics API sends values (`"1500m"`, `"2Ki"`,
 * `"1.2e3"`), and Quantity.AsApproximateFloat64, the number Flagger's externalmetrics provider
 * compares (k8s.io/apimachinery v0.36.2 pkg/api/resource/quantity.go). The number is computed from
 * the same decimal representation as Go's (an int64 value and scale, or a decimal rounded up to
 * nanos), so it is the same float.
 */

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_CHARS = 'eEinumkKMGTP';
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** A parsed quantity: `unscaled * 10^exponent`. */
export interface Quantity {
  unscaled: bigint;
  exponent: number;
}

interface Scanned {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: sign, numerator (leading zeros dropped), denominator, suffix. */
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return { positive, value: str, num: str.slice(pos), denom: '', suffix: '' };
  let num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new Error(FORMAT_WRONG);
  num = num || '0';
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** quantitySuffixer.interpret: [base, exponent, format]. */
function interpret(suffix: string): [10 | 2, number, 'DecimalSI' | 'BinarySI' | 'DecimalExponent'] {
  if (suffix in DECIMAL) return [10, DECIMAL[suffix], 'DecimalSI'];
  if (suffix in BINARY) return [2, BINARY[suffix], 'BinarySI'];
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const e = BigInt(suffix.slice(1));
    if (e <= INT64_MAX && e >= INT64_MIN) return [10, Number(BigInt.asIntN(32, e)), 'DecimalExponent'];
  }
  throw new Error("unable to parse quantity's suffix");
}

/** resource.ParseQuantity. @throws Error with apimachinery's message. */
export function parseQuantity(input: string): Quantity {
  const str = input.trim();
  if (str === '') throw new Error(FORMAT_WRONG);
  if (str === '0') return { unscaled: 0n, exponent: 0 };
  const { positive, value, num, denom, suffix } = scan(str);
  const [base, exponent, format] = interpret(suffix);

  // The int64 fast path (precision >= 0 and a scale of at least nanos).
  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc(Math.fround(exponent) * 3 / 10) - 1;
    } else precision = -1;
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = BigInt(num + denom);
      if (shifted <= INT64_MAX) {
        const result = shifted * mantissa;
        if (result <= INT64_MAX) return { unscaled: positive ? result : -result, exponent: scale };
      }
    }
  }

  // The inf.Dec path: the written digits, the suffix folded in, rounded up (away from zero) to nanos.
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (m[2] + (m[3] ?? '')) === '') throw new Error('unable to parse numeric part of quantity');
  let unscaled = BigInt(m[2] + (m[3] ?? '') || '0');
  let decScale = (m[3] ?? '').length; // value = unscaled * 10^-decScale
  if (base === 10) decScale -= exponent;
  else unscaled *= 1n << BigInt(exponent);
  const negative = m[1] === '-';
  if (unscaled !== 0n) {
    const target = 9;
    if (decScale > target) {
      const div = 10n ** BigInt(decScale - target);
      const q = unscaled / div;
      unscaled = unscaled % div === 0n ? q : q + 1n;
    } else if (decScale < target) unscaled *= 10n ** BigInt(target - decScale);
    decScale = target;
  }
  if (format === 'BinarySI' && unscaled > INT64_MAX * 10n ** BigInt(Math.max(decScale, 0))) {
    unscaled = INT64_MAX;
    decScale = 0;
  }
  return { unscaled: negative ? -unscaled : unscaled, exponent: -decScale };
}

// Go's math.Pow10 tables: exact for 10^0..10^22, products of correctly rounded powers beyond.
const POW10 = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const POW10_POS32 = [1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288];
const POW10_NEG32 = [1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320];

/** Go's math.Pow10. */
export function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS32[Math.trunc(n / 32)] * POW10[n % 32];
  if (n < 0 && n >= -323) return POW10_NEG32[Math.trunc(-n / 32)] / POW10[-n % 32];
  return n > 0 ? Infinity : 0;
}

/** Quantity.AsApproximateFloat64: float64(unscaled) * math.Pow10(exponent). */
export function approximateFloat64(q: Quantity): number {
  const base = Number(q.unscaled);
  return q.exponent === 0 ? base : base * goPow10(q.exponent);
}
