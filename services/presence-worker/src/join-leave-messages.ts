// Joins and leaves of distinct viewers become SYSTEM messages in the live room, stored by a
// message worker (so they have a seq and are replayed like any message). What decides how is the
// burst, not only the room's size after it: a change (one gateway report's arrivals or
// departures in a room) is announced one message per viewer only while the room is small —
// at most JOIN_AGGREGATE_ABOVE viewers both before and after it — no digest of the room is
// gathering, and the room's single messages of the current JOIN_AGGREGATE_INTERVAL_MS stay
// within JOIN_SINGLE_MESSAGES_PER_INTERVAL. Anything else goes into the interval's digest, one
// per kind ("alice and 37 others joined"); a room larger than JOIN_MESSAGES_MAX_ROOM before or
// after gets none — N joins × N viewers is what floods a big room (Twitch stops JOIN/PART there
// too). So a gateway draining 500 viewers, or 500 of them coming back at once, writes a few
// digests instead of 500 messages that every rejoining viewer would have to recover.
// The decision and the digest are made by the JoinLeaveDigestStore, atomically per change, so
// that every presence worker adds to the same digest and exactly one of them sends it.
import { internal, type Room } from '@lomi/protocol';
import type { Announced, JoinLeaveDigestStore, PresenceChange, Session } from '@lomi/presence';
import type { PresenceContext } from './context';

/** "alice joined", "alice and 1 other joined", "alice and 37 others joined". */
export function announcement(kind: Announced, firstUser: string, count: number): string {
  const others = count - 1;
  if (others === 0) return `${firstUser} ${kind}`;
  return `${firstUser} and ${others} ${others === 1 ? 'other' : 'others'} ${kind}`;
}

export interface JoinLeaveMessages {
  /** Announces the change's arrivals and departures as the room's size allows. */
  announce(change: PresenceChange): Promise<void>;
  /** Sends the room's digests whose interval is over; returns whether any is still gathering. */
  flushDigests(room: Room): Promise<boolean>;
}

export function createJoinLeaveMessages(ctx: PresenceContext, digests: JoinLeaveDigestStore): JoinLeaveMessages {
  const { config, bus, subjects, metrics, log } = ctx;

  /** Asks a message worker to store the message; a failure costs one announcement, nothing else. */
  async function post(room: Room, content: string, clientMsgId: string): Promise<void> {
    try {
      const reply = internal.SystemMessageReply.decode(
        await bus.request(subjects.systemMessages, internal.SystemMessageRequest.encode({ room, content, clientMsgId }).finish()),
      );
      if (reply.error) {
        metrics.systemMessages.inc({ outcome: 'refused' });
        log.debug({ room: room.id, error: reply.error.message }, 'join/leave message refused');
      } else metrics.systemMessages.inc({ outcome: 'stored' });
    } catch (err) {
      metrics.systemMessages.inc({ outcome: 'unavailable' });
      log.warn({ room: room.id, err: (err as Error).message }, 'join/leave message not stored');
    }
  }

  async function announce(room: Room, largest: number, kind: Announced, sessions: Session[]): Promise<void> {
    const first = sessions[0];
    if (!config.JOIN_LEAVE_MESSAGES || !first || largest > config.JOIN_MESSAGES_MAX_ROOM) return;
    if (!(await digests.announce(room, kind, first.userId, sessions.length, largest <= config.JOIN_AGGREGATE_ABOVE))) return;
    // The session's start makes the id unique per join (and per leave), so a retry stores it once.
    await Promise.all(sessions.map((s) => post(room, announcement(kind, s.userId, 1), `${kind}:${s.userId}:${s.since}`)));
  }

  return {
    async announce(change) {
      // The room's size on both sides of the change: a mass leave ends in a small room.
      const before = change.count - change.arrivals.length + change.departures.length;
      const largest = Math.max(before, change.count);
      await announce(change.room, largest, 'joined', change.arrivals);
      await announce(change.room, largest, 'left', change.departures);
    },

    async flushDigests(room) {
      const { due, gathering } = await digests.take(room);
      // The window's start makes the id unique per digest, so a retry stores it once.
      for (const d of due) await post(room, announcement(d.kind, d.firstUser, d.count), `${d.kind}-digest:${d.since}`);
      return gathering;
    },
  };
}
