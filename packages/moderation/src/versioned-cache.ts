// How the moderation state is cached in Redis: one hash per piece (a room's settings, a room's
// timeouts and bans, a scope's users) holding the value `s` written at version `v`. The moderation
// workers write after each change commits, at the version the change took; a reader that found
// nothing fills the key from Postgres at the version it read (0 when the piece has none). A write
// never replaces an equal or newer version, so a reader holding pre-change data cannot put it back
// over the writer's.
import type { Redis } from 'ioredis';

const WRITE_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

export interface VersionedCacheOptions<K, V> {
  redis: Redis;
  key(k: K): string;
  /** How long Redis keeps a piece after it was written. */
  ttlSeconds: number;
  encode(value: V): string | Buffer;
  decode(raw: Buffer): V;
  /** The piece as the record (Postgres) has it now, and its version. */
  load(k: K): Promise<{ value: V; version: number }>;
}

export function createVersionedCache<K, V>(options: VersionedCacheOptions<K, V>) {
  const write = (k: K, version: number, value: V) =>
    options.redis.eval(WRITE_IF_NEWER, 1, options.key(k), version, options.encode(value), options.ttlSeconds);
  return {
    /** The piece: from Redis, else from the record (then cached). */
    async read(k: K): Promise<V> {
      const cached = await options.redis.hgetBuffer(options.key(k), 's');
      if (cached) return options.decode(cached);
      const { value, version } = await options.load(k);
      await write(k, version, value);
      return value;
    },
    /** For the moderation workers, after a change committed: the piece as of `version`. */
    write,
  };
}
