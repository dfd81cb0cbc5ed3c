// The periodic pass over every room with presence or typing state: expires viewers of gateways
// that went silent (kill -9) and typists who stopped without saying so, publishes viewer counts
// that the push interval held back, sends due join/leave digests, and forgets rooms left empty.
// One worker sweeps per tick (the sweep lock); the room operations are atomic, so an overlap
// between two workers would repeat no push and no departure.
import type { ActiveRoomsStore, RoomPresenceStore } from '@lomi/presence';
import { RoomKind, type Room } from '@lomi/protocol';
import type { PresenceContext } from './context';
import type { JoinLeaveMessages } from './join-leave-messages';
import type { Typing } from './typing';
import type { ApplyChange } from './viewer-changes';

/** Rooms swept at once. */
const CONCURRENCY = 32;

export interface SweeperDeps {
  activeRooms: ActiveRoomsStore;
  presence: RoomPresenceStore;
  typing: Typing;
  messages: JoinLeaveMessages;
  apply: ApplyChange;
  workerId: string;
}

export function startSweeper(ctx: PresenceContext, deps: SweeperDeps) {
  const { config, log } = ctx;
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
    if (!(await activeRooms.lockSweep(deps.workerId, config.PRESENCE_SWEEP_MS))) return;
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
