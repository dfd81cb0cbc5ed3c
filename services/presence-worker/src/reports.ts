// Presence reports from gateways (published, no reply): joins and leaves of live rooms, sockets
// opening and closing, and the periodic heartbeat that refreshes all of it.
import { ROOM_ID_PATTERN, RoomKind, internal, type lomi, type Room } from '@lomi/protocol';
import type { ActiveRooms } from './active-rooms';
import type { PresenceContext } from './context';
import type { RoomPresence } from './room-presence';
import type { Typing } from './typing';
import type { UserConnections } from './user-connections';
import type { ApplyChange } from './viewer-changes';

/** Gateways only report live rooms; anything else is ignored rather than trusted. */
function liveRoom(room: lomi.chat.v1.IRoom | null | undefined): Room | undefined {
  if (room?.kind !== RoomKind.ROOM_KIND_LIVE || !ROOM_ID_PATTERN.test(room.id ?? '')) return undefined;
  return { kind: room.kind, id: room.id };
}

export interface ReportDeps {
  presence: RoomPresence;
  activeRooms: ActiveRooms;
  connections: UserConnections;
  typing: Typing;
  apply: ApplyChange;
}

export function createReportHandler(ctx: PresenceContext, deps: ReportDeps) {
  const { presence, activeRooms, connections, typing, apply } = deps;

  async function add(report: lomi.internal.v1.PresenceReport, reported: lomi.chat.v1.IRoom | null | undefined, userIds: string[]): Promise<void> {
    const room = liveRoom(reported);
    if (!room || userIds.length === 0) return;
    // Both sent at once, in this order: listed before the entries exist, so the sweeper never
    // misses them, and without an await in between, so the Redis commands of successive reports
    // run in the order the reports arrived (a leave right after its join stays after it).
    const [, change] = await Promise.all([activeRooms.touch(room), presence.add(room, report, userIds)]);
    await apply(change);
  }

  async function handle(report: lomi.internal.v1.PresenceReport): Promise<void> {
    // Decoded messages fill every field; the generated types only say so for the top level.
    switch (report.report) {
      case 'joined': {
        const { room, userId } = report.joined as lomi.internal.v1.RoomPresence;
        return add(report, room, [userId]);
      }
      case 'left': {
        const { room: reported, userId } = report.left as lomi.internal.v1.RoomPresence;
        const room = liveRoom(reported);
        if (room) await apply(await presence.remove(room, report, [userId]));
        return;
      }
      case 'connected':
        return connections.open([report.connected!], report);
      case 'disconnected': {
        const { userId, connectionId } = report.disconnected as lomi.internal.v1.ConnectionPresence;
        await connections.close(report.disconnected!);
        return typing.disconnected(userId, connectionId);
      }
      case 'heartbeat': {
        const heartbeat = report.heartbeat as lomi.internal.v1.PresenceHeartbeat;
        await connections.open(heartbeat.connections, report);
        await Promise.all(heartbeat.rooms.map((r) => add(report, r.room, r.userIds ?? [])));
        return;
      }
      default:
        ctx.log.warn('empty presence report');
    }
  }

  return async function handleReport(data: Uint8Array): Promise<void> {
    let report: lomi.internal.v1.PresenceReport;
    try {
      report = internal.PresenceReport.decode(data);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'undecodable presence report');
      return;
    }
    ctx.metrics.reports.inc({ kind: report.report ?? 'none' });
    await handle(report);
  };
}
