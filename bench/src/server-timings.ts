// Where a send's ack time and a delivery's time go inside our system, from the services' own
// Prometheus histograms: the gateway's (client frame in → ack out) and the message worker's
// (request in → reply out) for sends, and the gateway's fan-out delay (message created by its
// worker → written to a group of sockets) for deliveries. Read before and after a scenario; the
// difference is that scenario's alone. Quantiles are interpolated within buckets, as
// Prometheus's histogram_quantile does, so they are as fine as the buckets (LATENCY_BUCKETS: 1,
// 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 100, 250 ms, …; the fan-out's is finer from 50 ms to 1 s).

/** Cumulative count per upper bound (seconds), summed over processes. */
type Buckets = Map<number, number>;

type Quantiles = { p50?: number; p99?: number };

export interface ServerTimings {
  /** A send in the gateway, and in the message worker. */
  gateway: Quantiles;
  worker: Quantiles;
  /** A delivery: the message's age when the gateway wrote it to its viewers' sockets. */
  fanOut: Quantiles;
}

/** A histogram, with only the series whose labels pass `keep`. */
interface Metric {
  name: string;
  keep?: (labels: string) => boolean;
}

const SENT_OK = (labels: string) => /command="send"/.test(labels) && /outcome="ok"/.test(labels);
const GATEWAY_SEND: Metric = { name: 'lomi_gateway_command_seconds', keep: SENT_OK };
const WORKER_SEND: Metric = { name: 'lomi_worker_command_seconds', keep: SENT_OK };
const FAN_OUT: Metric = { name: 'lomi_gateway_fanout_delay_seconds' };

function parseBuckets(text: string, { name, keep = () => true }: Metric): Buckets {
  const buckets: Buckets = new Map();
  const line = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels, value] of text.matchAll(line)) {
    if (!keep(labels!)) continue;
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

/** Each metric's buckets, summed over `urls`; each endpoint is read once for all of them. */
async function scrape(urls: string[], metrics: Metric[]): Promise<Buckets[]> {
  const totals = metrics.map((): Buckets => new Map());
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    metrics.forEach((metric, i) => {
      for (const [bound, count] of parseBuckets(text, metric)) totals[i]!.set(bound, (totals[i]!.get(bound) ?? 0) + count);
    });
  }
  return totals;
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

function quantiles(before: Buckets, after: Buckets): Quantiles {
  return { p50: quantileMs(before, after, 0.5), p99: quantileMs(before, after, 0.99) };
}

/** Reads the histograms now; the returned function reads them again and gives the difference. */
export async function startServerTimings(gatewayUrls: string[], workerUrls: string[]): Promise<() => Promise<ServerTimings>> {
  const read = async () => {
    const [[gateway, fanOut], [worker]] = await Promise.all([scrape(gatewayUrls, [GATEWAY_SEND, FAN_OUT]), scrape(workerUrls, [WORKER_SEND])]);
    return [gateway!, worker!, fanOut!] as const;
  };
  const [gateway, worker, fanOut] = await read();
  return async () => {
    const [gatewayAfter, workerAfter, fanOutAfter] = await read();
    return { gateway: quantiles(gateway, gatewayAfter), worker: quantiles(worker, workerAfter), fanOut: quantiles(fanOut, fanOutAfter) };
  };
}
