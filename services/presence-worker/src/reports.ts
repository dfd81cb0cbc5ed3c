// Presence reports from gateways (published, no reply): batches of joins and leaves of live rooms
// and of sockets opening and closing, and the periodic heartbeat that refreshes all of it.
import type { ActiveRoomsStore, Connection, RoomPresenceStore, UserConnectionsStore } from '@lomi/presence';
import { ROOM_ID_PATTERN, RoomKind, internal, type lomi, type Room } from '@lomi/protocol';
import type { PresenceContext } from './context';
import type { Typing } from './typing';
import type { ApplyChange } from './viewer-changes';

/** Gateways only report live rooms; anything else is ignored rather than trusted. */
function liveRoom(room: lomi.chat.v1.IRoom | null | undefined): Room | undefined {
  if (room?.kind !== RoomKind.ROOM_KIND_LIVE || !ROOM_ID_PATTERN.test(room.id ?? '')) return undefined;
  return { kind: room.kind, id: room.id };
}

function asConnections(reported: lomi.internal.v1.IConnectionPresence[]): Connection[] {
  return reported.map(({ userId, connectionId }) => ({ userId: userId ?? '', connectionId: connectionId ?? '' }));
}

export interface ReportDeps {
  presence: RoomPresenceStore;
  activeRooms: ActiveRoomsStore;
  connections: UserConnectionsStore;
  typing: Typing;
  apply: ApplyChange;
}

export function createReportHandler(ctx: PresenceContext, deps: ReportDeps) {
  const { presence, activeRooms, connections, typing, apply } = deps;

  async function add(report: lomi.internal.v1.PresenceReport, reported: lomi.chat.v1.IRoom | null | undefined, userIds: string[]): Promise<void> {
    const room = liveRoom(reported);
    if (!room || userIds.length === 0) return;
    // Both started at once, in this order: listed before the entries exist, so the sweeper never
    // misses them, and without an await in between, so the store operations of successive
    // reports run in the order the reports arrived (a leave right after its join stays after it).
    const [, change] = await Promise.all([activeRooms.touch(room), presence.add(room, report, userIds)]);
    await apply(change);
  }

  async function remove(report: lomi.internal.v1.PresenceReport, reported: lomi.chat.v1.IRoom | null | undefined, userIds: string[]): Promise<void> {
    const room = liveRoom(reported);
    if (room && userIds.length > 0) await apply(await presence.remove(room, report, userIds));
  }

  async function handle(report: lomi.internal.v1.PresenceReport): Promise<void> {
    // A report names each connection and each user of a room at most once, so its parts are
    // independent: all of them are started at once. Decoded messages fill every field; the
    // generated types only say so for the top level.
    const heartbeat = report.heartbeat as lomi.internal.v1.PresenceHeartbeat | null;
    const closed = asConnections(report.disconnected);
    await Promise.all([
      connections.open(asConnections([...report.connected, ...(heartbeat?.connections ?? [])]), report),
      connections.close(closed).then(() => typing.disconnected(closed)),
      ...[...report.joined, ...(heartbeat?.rooms ?? [])].map((r) => add(report, r.room, r.userIds ?? [])),
      ...report.left.map((r) => remove(report, r.room, r.userIds ?? [])),
    ]);
  }

  return async function handleReport(data: Uint8Array): Promise<void> {
    let report: lomi.internal.v1.PresenceReport;
    try {
      report = internal.PresenceReport.decode(data);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'undecodable presence report');
      return;
    }
    ctx.metrics.reports.inc({ kind: report.heartbeat ? 'heartbeat' : 'changes' });
    await handle(report);
  };
}
