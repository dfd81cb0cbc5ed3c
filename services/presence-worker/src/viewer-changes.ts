// What follows from a live room's presence changing, whoever noticed it (a gateway report, the
// sweeper, a read): the coalesced viewer-count push, the viewing sessions in Postgres and the
// join/leave messages.
import type { PresenceChange } from '@lomi/presence';
import { internal } from '@lomi/protocol';
import type { PresenceContext } from './context';
import type { JoinLeaveMessages } from './join-leave-messages';
import type { ViewingSessions } from './viewing-sessions';

export type ApplyChange = (change: PresenceChange) => Promise<void>;

export function createViewerChanges(ctx: PresenceContext, sessions: ViewingSessions, messages: JoinLeaveMessages): ApplyChange {
  const { bus, subjects, metrics } = ctx;
  return async function apply(change) {
    const { room, count, peak } = change;
    if (change.push) {
      // Relayed by every gateway to the room's sockets as the `viewers` push.
      bus.publish(subjects.room(room), internal.RoomEvent.encode({ viewers: { room, count, peak } }).finish());
      metrics.pushes.inc({ kind: 'viewers' });
    }
    if (change.arrivals.length === 0 && change.departures.length === 0) return;
    metrics.viewerChanges.inc({ change: 'arrival' }, change.arrivals.length);
    metrics.viewerChanges.inc({ change: 'departure' }, change.departures.length);
    sessions.record(change);
    await messages.announce(change);
  };
}
