/**
 * The two phi functions, free of any state so they can be pinned against published vectors.
 *
 * phi = -log10(1 - F(dt)), the odds (in decimal orders of magnitude) that suspecting now is a mistake.
 */

const LOGISTIC_A = 1.5976;
const LOGISTIC_B = 0.070566;

/**
 * Normal inter-arrival model with Akka's logistic approximation of the CDF:
 * 1 - F(dt) = 1 / (1 + e^z), z = y (1.5976 + 0.070566 y^2), y = (dt - mean) / sd.
 * Written as softplus(z) / ln 10 with the branch that cannot overflow, so phi stays finite, never
 * negative and never NaN for any dt, where the textbook form gives Infinity or NaN at the extremes.
 */
export function phiNormal(dt: number, mean: number, stdDeviation: number): number {
  const y = (dt - mean) / stdDeviation;
  const z = y * (LOGISTIC_A + LOGISTIC_B * y * y);
  const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return softplus / Math.LN10;
}

/**
 * Exponential inter-arrival model, the corrected form of CASSANDRA-2597:
 * 1 - F(dt) = e^(-dt/mean), so phi = dt / (mean ln 10).
 */
export function phiExponential(dt: number, mean: number): number {
  if (dt <= 0) return 0;
  return dt / (mean * Math.LN10);
}
