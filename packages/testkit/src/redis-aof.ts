// A power cut for a Redis with `appendfsync everysec`: what the kernel had not written to disk
// is gone. Redis 7 appends to the `*.incr.aof` named in its manifest; sampling that file's size
// every 100 ms and cutting it back to a size it had a second earlier, after a SIGKILL, loses
// the last second of writes as a crashed machine would (Redis loads a truncated tail).
import fs from 'node:fs';
import path from 'node:path';
import type { RedisServer } from './redis-server';

const SAMPLE_MS = 100;
/** Redis's default `appenddirname` and manifest name for `appendfilename appendonly.aof`. */
const AOF_DIR = 'appendonlydir';
const MANIFEST = 'appendonly.aof.manifest';

/** The incremental AOF the manifest names last: where Redis appends now. */
export function currentIncrAof(redis: RedisServer): string {
  const dir = path.join(redis.dir, AOF_DIR);
  const manifest = fs.readFileSync(path.join(dir, MANIFEST), 'utf8');
  const incr = [...manifest.matchAll(/^file (\S+\.incr\.aof) seq \d+ type i$/gm)].pop();
  if (!incr) throw new Error(`no incremental AOF in ${dir}/${MANIFEST}:\n${manifest}`);
  return path.join(dir, incr[1]!);
}

export class AofSampler {
  private readonly samples: { at: number; size: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  /** The size the file had at the last sample taken at least `ms` ago. */
  sizeAgo(ms: number): number {
    const cutoff = performance.now() - ms;
    const sample = this.samples.filter((s) => s.at <= cutoff).pop();
    if (!sample) throw new Error(`no AOF sample ${ms} ms old yet`);
    return sample.size;
  }

  /** Stops sampling and cuts the file back to its size `ms` ago; returns the bytes removed. */
  cutBack(ms: number): number {
    this.stop();
    const to = this.sizeAgo(ms);
    const from = fs.statSync(this.file).size;
    fs.truncateSync(this.file, to);
    return from - to;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    this.samples.push({ at: performance.now(), size: fs.statSync(this.file).size });
  }
}
