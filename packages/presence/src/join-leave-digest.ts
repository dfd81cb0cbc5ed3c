// The seam of how a live room's joins and leaves are announced: one message per viewer while the
// room is small, no digest is gathering and the interval's allowance of single messages lasts;
// otherwise into the interval's digest of that kind ("alice and 37 others joined"), whose window
// opens with its first entry. Shared by every presence worker, so they all add to the same
// digest and exactly one of them takes it.
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createMemoryJoinLeaveDigest } from './join-leave-digest-memory';
import { createRedisJoinLeaveDigest } from './join-leave-digest-redis';

export type Announced = 'joined' | 'left';

export interface DigestSettings {
  /** Single messages one room may get per interval. */
  singlesPerInterval: number;
  /** How long a digest gathers from its first entry. */
  intervalMs: number;
}

/** A digest whose window is over. */
export interface Digest {
  kind: Announced;
  firstUser: string;
  count: number;
  /** When its window opened (Unix ms): unique per digest of a room and kind. */
  since: number;
}

export interface JoinLeaveDigestStore {
  /**
   * `count` users of one change, `firstUser` first. True: the caller is to announce them one by
   * one (they were counted against the interval's allowance); false: they went into the digest.
   * `small`: the room is small before and after the change.
   */
  announce(room: Room, kind: Announced, firstUser: string, count: number, small: boolean): Promise<boolean>;
  /** Takes every digest whose window is over; `gathering`: whether one still gathers. */
  take(room: Room): Promise<{ due: Digest[]; gathering: boolean }>;
}

/** Longer than any digest window, so a forgotten digest goes away on its own. */
export const DIGEST_KEEP_MS = 10 * 60 * 1000;

export function createJoinLeaveDigestStore(hot: HotState, settings: DigestSettings): JoinLeaveDigestStore {
  return hot.kind === 'redis' ? createRedisJoinLeaveDigest(hot.redis, hot.keys, settings) : createMemoryJoinLeaveDigest(hot.memory, settings);
}
