// Latency histogram with logarithmic buckets (~2% wide): recording is one log2 and an array
// increment, cheap enough for millions of deliveries a second, and histograms from several
// generator processes merge by adding counts.
const PER_OCTAVE = 32;
/** 2^38 µs ≈ 76 hours: nothing a run can measure overflows it. */
const BUCKETS = 38 * PER_OCTAVE + 1;

export interface HistogramData {
  counts: number[];
  count: number;
  maxUs: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  maxUs = 0;

  record(us: number): void {
    // Timestamps from two generator processes may differ by a few µs; never index below 0.
    const index = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * PER_OCTAVE));
    this.counts[index]! += 1;
    this.count += 1;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxUs = 0;
  }

  toData(): HistogramData {
    return { counts: Array.from(this.counts), count: this.count, maxUs: this.maxUs };
  }
}

export function mergeHistograms(parts: HistogramData[]): HistogramData {
  const counts = new Array<number>(BUCKETS).fill(0);
  for (const part of parts) part.counts.forEach((c, i) => (counts[i]! += c));
  return { counts, count: parts.reduce((s, p) => s + p.count, 0), maxUs: Math.max(0, ...parts.map((p) => p.maxUs)) };
}

/** The q-quantile in milliseconds (bucket midpoint), or undefined for an empty histogram. */
export function quantileMs(h: HistogramData, q: number): number | undefined {
  if (h.count === 0) return undefined;
  const rank = Math.ceil(q * h.count);
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= rank) return Math.min(2 ** ((i + 0.5) / PER_OCTAVE), h.maxUs) / 1000;
  }
  return h.maxUs / 1000;
}
