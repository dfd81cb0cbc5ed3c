// Where a send's ack time goes inside our system, from the services' own Prometheus histograms:
// the gateway's (client frame in → ack out) and the message worker's (request in → reply out).
// Read before and after a scenario; the difference is that scenario's sends alone. Quantiles
// are interpolated within buckets, as Prometheus's histogram_quantile does, so they are as fine
// as the buckets (LATENCY_BUCKETS: 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50 ms, …).

/** Cumulative count per upper bound (seconds), summed over processes. */
type Buckets = Map<number, number>;

export interface SendTimings {
  gateway: { p50?: number; p99?: number };
  worker: { p50?: number; p99?: number };
}

function parseBuckets(text: string, metric: string): Buckets {
  const buckets: Buckets = new Map();
  const line = new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels, value] of text.matchAll(line)) {
    if (!/command="send"/.test(labels!) || !/outcome="ok"/.test(labels!)) continue;
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

async function scrape(urls: string[], metric: string): Promise<Buckets> {
  const total: Buckets = new Map();
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const [bound, count] of parseBuckets(text, metric)) total.set(bound, (total.get(bound) ?? 0) + count);
  }
  return total;
}

/** The q-quantile in milliseconds of the observations between two scrapes. */
function quantileMs(before: Buckets, after: Buckets, q: number): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      // Past the last finite bound there is nothing to interpolate to: report that bound.
      if (upper === Infinity) return lower * 1000;
      return (lower + ((upper - lower) * (rank - below)) / (counts[i]! - below)) * 1000;
    }
    lower = bounds[i]!;
    below = counts[i]!;
  }
  return undefined;
}

/** Reads both histograms now; the returned function reads them again and gives the difference. */
export async function startSendTimings(gatewayUrls: string[], workerUrls: string[]): Promise<() => Promise<SendTimings>> {
  const gatewayBefore = await scrape(gatewayUrls, 'lomi_gateway_command_seconds');
  const workerBefore = await scrape(workerUrls, 'lomi_worker_command_seconds');
  return async () => {
    const gatewayAfter = await scrape(gatewayUrls, 'lomi_gateway_command_seconds');
    const workerAfter = await scrape(workerUrls, 'lomi_worker_command_seconds');
    return {
      gateway: { p50: quantileMs(gatewayBefore, gatewayAfter, 0.5), p99: quantileMs(gatewayBefore, gatewayAfter, 0.99) },
      worker: { p50: quantileMs(workerBefore, workerAfter, 0.5), p99: quantileMs(workerBefore, workerAfter, 0.99) },
    };
  };
}
