// The digest in this process's memory, with the Redis scripts' semantics: each call runs
// synchronously on the room's state.
import type { MemoryNamespace } from '@lomi/hot-state';
import { roomKey } from '@lomi/protocol';
import { DIGEST_KEEP_MS, type Announced, type Digest, type DigestSettings, type JoinLeaveDigestStore } from './join-leave-digest';

interface RoomDigests {
  /** The current interval of single messages: its start and how many it has used. */
  singleSince: number;
  singles: number;
  gathering: Map<Announced, { firstUser: string; count: number; since: number }>;
}

const KINDS: Announced[] = ['joined', 'left'];

export function createMemoryJoinLeaveDigest(memory: MemoryNamespace, settings: DigestSettings): JoinLeaveDigestStore {
  const rooms = memory.part('join-leave-digest', () => memory.ttlMap<string, RoomDigests>());

  return {
    async announce(room, kind, firstUser, count, small) {
      const now = memory.now();
      const key = roomKey(room);
      const state: RoomDigests = rooms.get(key) ?? { singleSince: 0, singles: 0, gathering: new Map() };
      rooms.set(key, state, DIGEST_KEEP_MS);
      if (small && state.gathering.size === 0) {
        const current = now - state.singleSince < settings.intervalMs;
        const used = current ? state.singles : 0;
        if (used + count <= settings.singlesPerInterval) {
          if (!current) state.singleSince = now;
          state.singles = used + count;
          return true;
        }
      }
      const digest = state.gathering.get(kind);
      if (digest) digest.count += count;
      else state.gathering.set(kind, { firstUser, count, since: now });
      return false;
    },

    async take(room) {
      const now = memory.now();
      const gathering = rooms.get(roomKey(room))?.gathering;
      const due: Digest[] = [];
      let still = false;
      for (const kind of KINDS) {
        const digest = gathering?.get(kind);
        if (!digest) continue;
        if (now - digest.since >= settings.intervalMs) {
          gathering!.delete(kind);
          due.push({ kind, ...digest });
        } else still = true;
      }
      return { due, gathering: still };
    },
  };
}
