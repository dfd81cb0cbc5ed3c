// The seam of typing indicators of private rooms: per room, who types until when (a "typing"
// nobody renews ends by itself) and when each typist's "typing" was last pushed (the throttle);
// per user, which connection they type from in which room, so a closing socket can stop it.
// Every operation is atomic per room and first expires the typists whose time is up.
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createMemoryTyping } from './typing-memory';
import { createRedisTyping } from './typing-redis';
import type { Connection } from './user-connections';

export interface TypingSettings {
  /** A "typing" without a newer one ends after this long. */
  timeoutMs: number;
  /** Shortest time between two "typing" pushes of one user in one room. */
  pushIntervalMs: number;
}

/** What one typing operation did to a room. */
export interface TypingChange {
  /** What to push about the operation's user: 'typing' (throttled), 'stopped' (was typing) or nothing. */
  push: 'typing' | 'stopped' | undefined;
  /** Other users whose typing expired (each to be pushed as stopped). */
  expired: string[];
  /** How many users still type in the room. */
  typing: number;
}

export interface TypingStore {
  /** The user types in the room from the connection, until the timeout. */
  start(room: Room, userId: string, connectionId: string): Promise<TypingChange>;
  stop(room: Room, userId: string): Promise<TypingChange>;
  /** Only expires typists. */
  sweep(room: Room): Promise<TypingChange>;
  /** For each connection, the rooms its user is typing in from it. */
  typingFrom(connections: Connection[]): Promise<Room[][]>;
}

/** Longer than any typing or throttle, so idle state goes away on its own. */
export function typingKeepMs(settings: TypingSettings): number {
  return 2 * Math.max(settings.timeoutMs, settings.pushIntervalMs);
}

export function createTypingStore(hot: HotState, settings: TypingSettings): TypingStore {
  return hot.kind === 'redis' ? createRedisTyping(hot.redis, hot.keys, settings) : createMemoryTyping(hot.memory, settings);
}
