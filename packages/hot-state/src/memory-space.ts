// The in-process engine behind every store seam: the state of one namespace, held in this
// process and shared by all its services (as one Redis is shared by all theirs). Each store's
// memory implementation keeps its own part, under its own name; nothing here knows their shapes.
import { randomUUID } from 'node:crypto';

/** How often expired entries of every TtlMap are dropped (reads drop them too, lazily). */
const PURGE_INTERVAL_MS = 5_000;

/** A Map whose entries may expire, as Redis keys with a TTL do; an expired entry is absent. */
export class TtlMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `value`; `ttlMs` undefined keeps no expiry (a key without TTL). */
  set(key: K, value: V, ttlMs?: number): void {
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.now() + ttlMs });
  }

  /** Like Redis EXPIRE: a new TTL for an existing entry; false if there is none. */
  expire(key: K, ttlMs: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= this.now()) return false;
    entry.expiresAt = this.now() + ttlMs;
    return true;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Live entries (expired ones are dropped on the way). */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
      else yield [key, entry.value];
    }
  }

  get size(): number {
    this.purge();
    return this.entries.size;
  }

  purge(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** One namespace's state in one memory space. */
export class MemoryNamespace {
  private readonly parts = new Map<string, unknown>();
  private readonly ttlMaps = new Set<TtlMap<unknown, unknown>>();
  private purgeTimer: NodeJS.Timeout | undefined;

  /**
   * @param incarnation changes whenever the state is new (as a Redis run_id does): stores that
   * keep epochs treat state from another incarnation as lost.
   */
  constructor(
    readonly name: string,
    readonly incarnation: string,
    readonly now: () => number = Date.now,
  ) {}

  /** The store's part of the state, made by `make` on first use. */
  part<T>(name: string, make: () => T): T {
    let part = this.parts.get(name) as T | undefined;
    if (part === undefined) {
      part = make();
      this.parts.set(name, part);
    }
    return part;
  }

  /** A TtlMap whose expired entries this namespace drops every few seconds. */
  ttlMap<K, V>(): TtlMap<K, V> {
    const map = new TtlMap<K, V>(this.now);
    this.ttlMaps.add(map);
    if (!this.purgeTimer) {
      this.purgeTimer = setInterval(() => this.ttlMaps.forEach((m) => m.purge()), PURGE_INTERVAL_MS);
      this.purgeTimer.unref();
    }
    return map;
  }

  /** Drops every part (what a test system does with its namespace's Redis keys when it stops). */
  clear(): void {
    this.parts.clear();
    this.ttlMaps.clear();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }
}

/** The scheme of a REDIS_URL that selects the process's in-memory state: `memory:` (or `memory:<name>`). */
export const MEMORY_STATE_SCHEME = 'memory:';

const spaces = new Map<string, Map<string, MemoryNamespace>>();

/** The namespace's state in the process's memory space of that URL, made on first use. */
export function memoryNamespace(url: string, namespace: string): MemoryNamespace {
  let space = spaces.get(url);
  if (!space) {
    space = new Map();
    spaces.set(url, space);
  }
  let state = space.get(namespace);
  if (!state) {
    state = new MemoryNamespace(namespace, randomUUID());
    space.set(namespace, state);
  }
  return state;
}

/** Forgets the namespace's state in that memory space (its next use starts anew, with a new incarnation). */
export function dropMemoryNamespace(url: string, namespace: string): void {
  spaces.get(url)?.get(namespace)?.clear();
  spaces.get(url)?.delete(namespace);
}

/** Orders [member, score] pairs as Redis orders a sorted set: by score, then by member's bytes. */
export function bySortedSetOrder<T extends readonly [string, number]>([a, x]: T, [b, y]: T): number {
  return x - y || (a < b ? -1 : a > b ? 1 : 0);
}
