// The moderation state as every other service reads it: a user's role in a room, from the
// moderation workers' record (Postgres, cached in Redis), cached again in this process's memory.
// Each change is pushed as a ModerationChanged event after it is stored, and every reader drops
// what it held of that scope, so a grant or revoke takes effect everywhere within the event's
// delivery. NATS core may drop an event, so memory entries also expire (MEMORY_TTL_MS), and a
// reader forgets everything when its NATS connection comes back (events may have been missed).
import type { Bus } from '@lomi/bus';
import type { Logger, Subjects } from '@lomi/common';
import { internal, Role, type Room } from '@lomi/protocol';
import type { RoomFacts, RoomStores } from '@lomi/rooms';
import { channelScope, createScopeCache, parseScope, STAFF_SCOPE, streamScope, type Scope } from './scopes';

/** How long a process trusts a scope it read without hearing of a change (a missed event lasts at most this). */
const MEMORY_TTL_MS = 10_000;
/** Scopes held in memory; the oldest read goes first. */
const MEMORY_MAX_SCOPES = 10_000;

export interface ModerationStateDeps extends RoomStores {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
}

export type ModerationState = ReturnType<typeof createModerationState>;

export function createModerationState(deps: ModerationStateDeps) {
  const cache = createScopeCache(deps);
  const held = new Map<Scope, { ids: ReadonlySet<string>; readAt: number }>();
  // Reads in flight. Forgetting a scope drops its read too: a read that overlapped a change may
  // hold the old users, so it answers its callers but is not kept, and later callers read again.
  const reading = new Map<Scope, Promise<ReadonlySet<string>>>();

  function forget(scope: Scope): void {
    held.delete(scope);
    reading.delete(scope);
  }

  function forgetAll(): void {
    held.clear();
    reading.clear();
  }

  function users(scope: Scope): Promise<ReadonlySet<string>> | ReadonlySet<string> {
    const entry = held.get(scope);
    if (entry && performance.now() - entry.readAt < MEMORY_TTL_MS) return entry.ids;
    const pending = reading.get(scope);
    if (pending) return pending;
    const read = cache.read(scope).then((list) => {
      const ids = new Set(list);
      if (reading.get(scope) === read) {
        reading.delete(scope);
        held.delete(scope);
        if (held.size >= MEMORY_MAX_SCOPES) held.delete(held.keys().next().value!);
        held.set(scope, { ids, readAt: performance.now() });
      }
      return ids;
    });
    // A failed read is not shared with later callers.
    read.catch(() => reading.get(scope) === read && reading.delete(scope));
    reading.set(scope, read);
    return read;
  }

  const subscription = deps.bus.subscribe(deps.subjects.events.moderationChanged, (msg) => {
    try {
      const scope = parseScope(internal.ModerationChanged.decode(msg.data).scope);
      if (scope) forget(scope);
    } catch (e) {
      deps.log.warn({ err: e }, 'undecodable ModerationChanged event');
    }
  });
  const unwatch = deps.bus.onStatus((status) => {
    if (status === 'reconnected') forgetAll();
  });

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
    forget,

    /** Stops listening for changes (the NATS connection's drain does it too). */
    async stop(): Promise<void> {
      unwatch();
      subscription.unsubscribe();
    },
  };
}
