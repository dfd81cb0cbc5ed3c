import type { ClientRequest } from '@lomi/dispatch';
import type { ModerationState, RoomSanctions, RoomSettingsReader, Scope, VersionedCache } from '@lomi/moderation';
import type { ProtocolError } from '@lomi/protocol';
import type { Pins, Rooms } from '@lomi/rooms';
import type { WorkerContext } from '@lomi/worker-runtime';
import type { AuditLog } from './audit';
import type { ModerationWorkerConfig } from './config';
import type { Metrics } from './metrics';

/**
 * The shared worker context plus what every handler here needs: room facts, the pin store, the
 * roles (read like every other service does, and their cache, which this worker writes), the
 * moderation log, and how a failed request is answered.
 */
export type ModerationContext = WorkerContext<ModerationWorkerConfig, Metrics> & {
  rooms: Rooms;
  pins: Pins;
  moderation: ModerationState;
  scopeCache: VersionedCache<Scope, string[]>;
  audit: AuditLog;
  /** Live rooms' settings, read like every other service does, and their cache, which this worker writes. */
  roomSettings: RoomSettingsReader;
  /** Live rooms' timeouts and bans, read like every other service does, and their cache, which this worker writes. */
  sanctions: RoomSanctions;
  reject: (op: string, err: unknown, client?: ClientRequest) => ProtocolError;
};
