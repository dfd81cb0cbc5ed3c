// How the moderation state is cached in the hot state: one value per piece (a room's settings, a
// room's timeouts and bans, a scope's users) written at a version. The moderation workers write
// after each change commits, at the version the change took; a reader that found nothing fills
// the piece from Postgres at the version it read (0 when the piece has none). A write never
// replaces an equal or newer version, so a reader holding pre-change data cannot put it back over
// the writer's.
import type { HotState } from '@lomi/hot-state';
import { createVersionedCacheStore, type CachedPiece } from './versioned-cache-store';

export interface VersionedCacheOptions<K, V> {
  hot: HotState;
  piece: CachedPiece<K>;
  encode(value: V): string | Buffer;
  decode(raw: Buffer): V;
  /** The piece as the record (Postgres) has it now, and its version. */
  load(k: K): Promise<{ value: V; version: number }>;
}

export interface VersionedCache<K, V> {
  /** The piece: from the cache, else from the record (then cached). */
  read(k: K): Promise<V>;
  /** For the moderation workers, after a change committed: the piece as of `version`. */
  write(k: K, version: number, value: V): Promise<void>;
}

export function createVersionedCache<K, V>(options: VersionedCacheOptions<K, V>): VersionedCache<K, V> {
  const store = createVersionedCacheStore(options.hot, options.piece);
  const write = async (k: K, version: number, value: V) => void (await store.writeIfNewer(k, version, options.encode(value)));
  return {
    async read(k) {
      const cached = await store.get(k);
      if (cached) return options.decode(cached);
      const { value, version } = await options.load(k);
      await write(k, version, value);
      return value;
    },
    write,
  };
}
