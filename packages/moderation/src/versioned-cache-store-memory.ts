import type { MemoryNamespace } from '@lomi/hot-state';
import type { CachedPiece, VersionedCacheStore } from './versioned-cache-store';

export function createMemoryVersionedCacheStore<K>(memory: MemoryNamespace, piece: CachedPiece<K>): VersionedCacheStore<K> {
  const pieces = memory.part(`versioned-cache:${piece.name}`, () => memory.ttlMap<string, { version: number; value: Buffer }>());
  return {
    // A copy, as each Redis read is its own.
    get: async (k) => {
      const cached = pieces.get(piece.id(k));
      return cached ? Buffer.from(cached.value) : null;
    },
    async writeIfNewer(k, version, value) {
      const current = pieces.get(piece.id(k));
      if (current && current.version >= version) return false;
      pieces.set(piece.id(k), { version, value: Buffer.from(value) }, piece.ttlSeconds * 1000);
      return true;
    },
    forget: async (k) => void pieces.delete(piece.id(k)),
  };
}
