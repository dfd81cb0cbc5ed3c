// The moderation state as every other service reads it: a user's role in a room, from the
// moderation workers' record (Postgres, cached in the hot state), held again in this process's memory
// (held.ts). Each change is pushed as a ModerationChanged event after it is stored, and every
// reader drops what it held of that scope, so a grant or revoke takes effect everywhere within
// the event's delivery.
import { internal, Role, type Room } from '@lomi/protocol';
import type { RoomFacts } from '@lomi/rooms';
import { createHeld, type ReaderDeps } from './held';
import { channelScope, createScopeCache, parseScope, STAFF_SCOPE, streamScope, type Scope } from './scopes';

export type ModerationStateDeps = ReaderDeps;

export type ModerationState = ReturnType<typeof createModerationState>;

export function createModerationState(deps: ModerationStateDeps) {
  const cache = createScopeCache(deps);
  const held = createHeld<Scope, ReadonlySet<string>>({
    ...deps,
    id: (scope) => scope,
    read: async (scope) => new Set(await cache.read(scope)),
    event: {
      subject: deps.subjects.events.moderationChanged,
      name: 'ModerationChanged',
      apply(msg, h) {
        const scope = parseScope(internal.ModerationChanged.decode(msg.data).scope);
        if (scope) h.forget(scope);
      },
    },
  });
  const users = (scope: Scope) => held.get(scope);

  return {
    /**
     * The user's role in the room whose facts (rooms.authorize) the caller holds: the broadcaster
     * in their own stream, else staff anywhere, else a moderator of the stream or of its
     * broadcaster's channel, else a viewer; in a private room a member (staff count as staff).
     */
    async roleOf(room: Room, userId: string, facts: RoomFacts): Promise<Role> {
      if (facts.kind === 'missing') return Role.ROLE_UNSPECIFIED;
      if (facts.kind === 'live' && facts.broadcasterId === userId) return Role.ROLE_BROADCASTER;
      const [staff, stream, channel] = await Promise.all([
        users(STAFF_SCOPE),
        facts.kind === 'live' ? users(streamScope(room.id ?? '')) : undefined,
        facts.kind === 'live' ? users(channelScope(facts.broadcasterId)) : undefined,
      ]);
      if (staff.has(userId)) return Role.ROLE_STAFF;
      if (facts.kind === 'private') return facts.members.includes(userId) ? Role.ROLE_MEMBER : Role.ROLE_UNSPECIFIED;
      return stream?.has(userId) || channel?.has(userId) ? Role.ROLE_MODERATOR : Role.ROLE_VIEWER;
    },

    /** Drops what this process holds of `scope` (the writer, at once; everyone else on the event). */
    forget: (scope: Scope) => held.forget(scope),

    /** Stops listening for changes (the NATS connection's drain does it too). */
    async stop(): Promise<void> {
      held.stop();
    },
  };
}
