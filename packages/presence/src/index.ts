// Presence as every other service reads it. The presence workers own it (they alone write its
// keys: who views a live room, which sockets a user has open); the message workers ask here,
// never by the keys, so the presence workers may change how they keep it.
import type { Keys } from '@lomi/common';
import type { Room } from '@lomi/protocol';
import type { Redis } from 'ioredis';

export interface PresenceReader {
  /** Distinct users viewing the live room now. */
  viewerCount(room: Room): Promise<number>;
  /** For each of `userIds`, whether the live room's viewer count already holds them. */
  counted(room: Room, userIds: string[]): Promise<boolean[]>;
  /** Whether the user has a socket open on any gateway. */
  isOnline(userId: string): Promise<boolean>;
}

export function createPresenceReader({ redis, keys }: { redis: Redis; keys: Keys }): PresenceReader {
  return {
    // One field per distinct viewer (the presence workers' room-presence.ts).
    viewerCount: (room) => redis.hlen(keys.viewers(room)),
    async counted(room, userIds) {
      if (userIds.length === 0) return [];
      return (await redis.hmget(keys.viewers(room), ...userIds)).map((v) => v !== null);
    },
    // Each socket with its expiry, which its gateway's heartbeats push ahead (user-connections.ts).
    isOnline: async (userId) => (await redis.zcount(keys.userConnections(userId), Date.now(), '+inf')) > 0,
  };
}
