// Every NATS subject and queue group, named once. Room ids are restricted to [A-Za-z0-9_-], so
// they are always a single subject token.
import { InternalError } from '@lomi/errors';
import { roomKindToken, type Room } from '@lomi/protocol';

export type Subjects = ReturnType<typeof createSubjects>;

function kindToken(room: Room): string {
  const kind = roomKindToken(room.kind);
  if (!kind) throw new InternalError(`room without a kind: ${JSON.stringify(room)}`);
  return kind;
}

export function createSubjects(namespace: string) {
  return {
    /** RoomEvents of one room; gateways holding a socket in the room subscribe. */
    room: (room: Room) => `${namespace}.room.${kindToken(room)}.${room.id}`,
    /** Client commands, by the worker that handles them (see the gateway's command routes). */
    commands: {
      message: `${namespace}.cmd.message`,
      presence: `${namespace}.cmd.presence`,
      moderation: `${namespace}.cmd.moderation`,
    },
    /** Read-only HTTP calls (ApiRequest) forwarded by gateways, by the worker that answers them. */
    api: {
      message: `${namespace}.api.message`,
      presence: `${namespace}.api.presence`,
      moderation: `${namespace}.api.moderation`,
    },
    /** JoinBatchRequests: a gateway's joins of one room, gathered, to the message workers. */
    joins: `${namespace}.join`,
    /** Gap fills: a gateway asks for a seq range it missed. */
    range: `${namespace}.range`,
    /** Service API operations, by the worker that performs them. */
    service: {
      /** Create a conversation, create and end a live stream. */
      message: `${namespace}.svc.rooms`,
      /** Moderators, staff and platform bans. */
      moderation: `${namespace}.svc.moderation`,
    },
    /** BannedUsersRequests: a gateway loads the platform-banned users from the moderation workers. */
    bannedUsers: `${namespace}.moderation.banned_users`,
    /** TombstoneRequests: a moderation worker asks the message workers to delete messages. */
    tombstones: `${namespace}.tombstones`,
    /** PresenceReports from gateways (joins, leaves, connections, heartbeats) to the presence workers. */
    presenceReports: `${namespace}.presence.reports`,
    /** SystemMessageRequests: the presence workers ask a message worker to store a SYSTEM message. */
    systemMessages: `${namespace}.sysmsg`,
    /** Facts other services react to, published once by the service that caused them. */
    events: {
      /** StreamEnded, by the message worker that ended a live stream. */
      streamEnded: `${namespace}.events.stream_ended`,
      /**
       * A message worker saw its Redis come back as another server (restart, failover): every
       * room's seq lease there is void. Gateways then check each room they hold, so that each
       * reset happens and its clients hear of it at once rather than at the room's next send.
       */
      storeReset: `${namespace}.events.store_reset`,
      /** ModerationChanged, by the moderation worker that changed a scope's moderators or the staff; every reader hears it. */
      moderationChanged: `${namespace}.events.moderation_changed`,
      /** RoomSettingsChanged, by the moderation worker that changed a live room's settings; every message worker hears it. */
      roomSettingsChanged: `${namespace}.events.room_settings_changed`,
      /** RoomSanctionsChanged, by the moderation worker that timed out, banned or unbanned a user in a live room. */
      roomSanctionsChanged: `${namespace}.events.room_sanctions_changed`,
      /** PlatformBanChanged, by the moderation worker that banned or unbanned a user; every gateway hears it. */
      platformBanChanged: `${namespace}.events.platform_ban_changed`,
    },
  } as const;
}

export const QueueGroup = {
  MESSAGE_WORKERS: 'message-workers',
  PRESENCE_WORKERS: 'presence-workers',
  MODERATION_WORKERS: 'moderation-workers',
} as const;

/** The workers a gateway forwards to. */
export type WorkerKind = keyof ReturnType<typeof createSubjects>['commands'];
