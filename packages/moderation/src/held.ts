// What each process holds in memory of the moderation workers' state (roles, room settings,
// timeouts and bans): read through `read` (the cache, else Postgres), trusted for MEMORY_TTL_MS,
// kept current by an event the writer publishes after each change. NATS core may drop an event,
// hence the expiry; and a process forgets everything when its bus reconnects (it may have missed
// some). Reads of one key in flight are shared; a read that overlapped a forget answers its
// callers but is not kept.
import type { Bus, BusMessage, Subjects } from '@lomi/bus';
import type { Logger } from '@lomi/service-runtime';
import type { RoomStores } from '@lomi/rooms';

/** What every reader of the moderation state is made with. */
export interface ReaderDeps extends RoomStores {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
}

/** How long a process trusts what it read without hearing of a change (a missed event lasts at most this). */
const MEMORY_TTL_MS = 10_000;
/** Keys held; the oldest read goes first. */
const MEMORY_MAX_KEYS = 10_000;

export interface HeldOptions<K, V> {
  bus: Bus;
  log: Logger;
  /** The key's identity in the maps (e.g. roomKey). */
  id(key: K): string;
  /** Reads the value of a key afresh. */
  read(key: K): Promise<V>;
  /** The writer's change event, and what it does here (forget the key, or keep the value it carries). */
  event: { subject: string; name: string; apply(msg: BusMessage, held: Held<K, V>): void };
  /** Whether `value` may replace `current` (e.g. not an older version); default always. */
  newer?(value: V, current: V): boolean;
}

export interface Held<K, V> {
  /** The key's value: from memory when fresh, else read (without a wait when held). */
  get(key: K): V | Promise<V>;
  /** Keeps `value` for the key, unless what is held is newer. */
  keep(key: K, value: V): void;
  /** Drops what is held of the key, and any read of it in flight. */
  forget(key: K): void;
  stop(): void;
}

export function createHeld<K, V>(options: HeldOptions<K, V>): Held<K, V> {
  const held = new Map<string, { value: V; readAt: number }>();
  const reading = new Map<string, Promise<V>>();

  function keep(k: K, value: V): void {
    const key = options.id(k);
    const current = held.get(key);
    if (current && options.newer && !options.newer(value, current.value)) return;
    held.delete(key);
    if (held.size >= MEMORY_MAX_KEYS) held.delete(held.keys().next().value!);
    held.set(key, { value, readAt: performance.now() });
  }

  function forget(k: K): void {
    const key = options.id(k);
    held.delete(key);
    reading.delete(key);
  }

  function get(k: K): V | Promise<V> {
    const key = options.id(k);
    const entry = held.get(key);
    if (entry && performance.now() - entry.readAt < MEMORY_TTL_MS) return entry.value;
    const pending = reading.get(key);
    if (pending) return pending;
    const read = options.read(k).then((value) => {
      if (reading.get(key) !== read) return value;
      reading.delete(key);
      keep(k, value);
      return held.get(key)!.value;
    });
    // A failed read is not shared with later callers.
    read.catch(() => reading.get(key) === read && reading.delete(key));
    reading.set(key, read);
    return read;
  }

  const self: Held<K, V> = { get, keep, forget, stop };
  const subscription = options.bus.subscribe(options.event.subject, (msg) => {
    try {
      options.event.apply(msg, self);
    } catch (err) {
      options.log.warn({ err }, `undecodable ${options.event.name} event`);
    }
  });
  const unwatch = options.bus.onStatus((status) => {
    if (status !== 'reconnected') return;
    held.clear();
    reading.clear();
  });
  function stop(): void {
    unwatch();
    subscription.unsubscribe();
  }
  return self;
}
