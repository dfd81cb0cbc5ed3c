// The seam of the pins' hot state: a cache of each live room's pin (for joins, which far outnumber
// pin changes) and the work list of pin expiries the moderation workers sweep. Postgres
// (live_stream_pins) is the record; pins.ts keeps it and decides what to cache for how long.
import type { HotState } from '@lomi/hot-state';
import { chat, type lomi, type Room } from '@lomi/protocol';
import { createMemoryPinStore } from './pin-store-memory';
import { createRedisPinStore } from './pin-store-redis';

type Pin = lomi.chat.v1.Pin;

export interface PinStore {
  /** The cached pin: a Pin, null for a cached "no pin", or undefined when nothing is cached. */
  cached(room: Room): Promise<Pin | null | undefined>;
  /** Caches `pin` (null: "no pin") for `ttlMs`; `onlyIfEmpty` keeps a value already cached. */
  cache(room: Room, pin: Pin | null, ttlMs: number, onlyIfEmpty: boolean): Promise<void>;
  /** Drops the cached pin, as an eviction or a cache that restarted empty would (the next read loads the record). */
  forget(room: Room): Promise<void>;
  /** Lists the live room `roomId` as expiring at `atMs` (replacing any earlier entry). */
  scheduleExpiry(roomId: string, atMs: number): Promise<void>;
  /** Takes the live room off the work list. */
  cancelExpiry(roomId: string): Promise<void>;
  /** Up to `limit` room ids listed as expiring at or before `nowMs`, earliest first (the list is left as it is). */
  due(nowMs: number, limit: number): Promise<string[]>;
  /** Takes those of `roomIds` off the list that are still due at `nowMs` (a re-pin since moved later stays). */
  removeIfDue(roomIds: string[], nowMs: number): Promise<void>;
}

export function createPinStore(hot: HotState): PinStore {
  return hot.kind === 'redis' ? createRedisPinStore(hot.redis, hot.keys) : createMemoryPinStore(hot.memory);
}

// An empty cache value means "no pin", so rooms without one do not ask Postgres on every join.
const NO_PIN = Buffer.alloc(0);

/** The cached form of a pin (both implementations keep bytes, so every read decodes a copy of its own). */
export function encodeCachedPin(pin: Pin | null): Buffer {
  return pin ? Buffer.from(chat.Pin.encode(pin).finish()) : NO_PIN;
}

export function decodeCachedPin(value: Buffer): Pin | null {
  return value.length === 0 ? null : chat.Pin.decode(value);
}
