// The sweeper's work list: every room with presence or typing state, scored by its last activity.
// A room leaves the list only when a sweep found it empty AND nothing touched it since well
// before that sweep began, checked in one script, so a join racing the sweep is never forgotten.
import { roomKey, RoomKind, type Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { PresenceContext } from './context';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiForgetIdleRoom(roomsKey: string, room: string, cutoffMs: number): Result<number, Context>;
  }
}

// KEYS: the work list; ARGV: room key, cutoff (Unix ms). Removes the room if untouched since the cutoff.
const FORGET_IF_IDLE = `
local touched = redis.call('ZSCORE', KEYS[1], ARGV[1])
if touched and tonumber(touched) < tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** Margin for the workers' clocks, which score the touches, not agreeing to the millisecond. */
const CLOCK_SKEW_MS = 5000;

const KINDS: Record<string, RoomKind> = { live: RoomKind.ROOM_KIND_LIVE, private: RoomKind.ROOM_KIND_PRIVATE };

/** The room a roomKey (as in the work list) names. */
export function parseRoomKey(key: string): Room | undefined {
  const colon = key.indexOf(':');
  const kind = KINDS[key.slice(0, colon)];
  return kind === undefined ? undefined : { kind, id: key.slice(colon + 1) };
}

export type ActiveRooms = ReturnType<typeof createActiveRooms>;

export function createActiveRooms(ctx: PresenceContext) {
  const { redis, keys } = ctx;
  redis.defineCommand('lomiForgetIdleRoom', { numberOfKeys: 1, lua: FORGET_IF_IDLE });

  return {
    async touch(room: Room): Promise<void> {
      await redis.zadd(keys.presenceRooms, Date.now(), roomKey(room));
    },

    async list(): Promise<Room[]> {
      const members = await redis.zrange(keys.presenceRooms, 0, -1);
      return members.map(parseRoomKey).filter((r): r is Room => r !== undefined);
    },

    /** Drops a room a sweep that began at `sweepStartedAt` found without any state. */
    async forgetIfIdle(room: Room, sweepStartedAt: number): Promise<void> {
      await redis.lomiForgetIdleRoom(keys.presenceRooms, roomKey(room), sweepStartedAt - CLOCK_SKEW_MS);
    },
  };
}
