// The periodic pass over every room with presence or typing state: expires viewers of gateways
// that went silent (kill -9) and typists who stopped without saying so, publishes viewer counts
// that the push interval held back, sends due join/leave digests, and forgets rooms left empty.
// One worker sweeps per tick (a lock in Redis); the room scripts are atomic, so an overlap
// between two workers would repeat no push and no departure.
import type { ActiveRooms } from './active-rooms';
import type { PresenceContext } from './context';
import type { JoinLeaveMessages } from './join-leave-messages';
import type { RoomPresence } from './room-presence';
import type { Typing } from './typing';
import type { ApplyChange } from './viewer-changes';
import { RoomKind, type Room } from '@lomi/protocol';

/** Rooms swept at once. */
const CONCURRENCY = 32;

export interface SweeperDeps {
  activeRooms: ActiveRooms;
  presence: RoomPresence;
  typing: Typing;
  messages: JoinLeaveMessages;
  apply: ApplyChange;
  workerId: string;
}

export function startSweeper(ctx: PresenceContext, deps: SweeperDeps) {
  const { redis, keys, config, log } = ctx;
  const { activeRooms, presence, typing, messages, apply } = deps;

  /** Sweeps one room; returns whether it still holds any state. */
  async function sweepRoom(room: Room): Promise<boolean> {
    let busy = false;
    if (room.kind === RoomKind.ROOM_KIND_LIVE) {
      const change = await presence.sweep(room);
      await apply(change);
      busy = (await messages.flushDigests(room)) || change.count > 0;
    }
    return (await typing.sweep(room)) > 0 || busy;
  }

  async function tick(): Promise<void> {
    const mine = await redis.set(keys.presenceSweepLock, deps.workerId, 'PX', config.PRESENCE_SWEEP_MS, 'NX');
    if (!mine) return;
    const startedAt = Date.now();
    const rooms = await activeRooms.list();
    for (let i = 0; i < rooms.length; i += CONCURRENCY) {
      await Promise.all(
        rooms.slice(i, i + CONCURRENCY).map(async (room) => {
          if (!(await sweepRoom(room))) await activeRooms.forgetIfIdle(room, startedAt);
        }),
      );
    }
  }

  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'presence sweep failed; next tick retries'))
      .finally(() => (running = undefined));
  }, config.PRESENCE_SWEEP_MS);

  return {
    /** Stops sweeping and waits for a pass in progress. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
