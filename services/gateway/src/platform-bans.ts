// Platform bans at the gateway. An upgrade is decided before uWS's upgrade callback returns
// (chat-upgrade.ts says why), so the banned user ids are held in memory: loaded from the moderation
// workers at start (BannedUsersRequest pages), kept current by their PlatformBanChanged events,
// and loaded again every BANS_RESYNC_MS and whenever NATS reconnects, since NATS core may drop an
// event. A load that fails is retried with backoff. Until the first load succeeds (no moderation
// worker up yet) bans cannot be enforced here: upgrades are let through, and the sockets of
// banned users are closed once it succeeds. Each ban heard, and each load, closes the banned
// users' sockets with 4403.
import type { Bus, Subjects } from '@lomi/bus';
import type { Logger } from '@lomi/service-runtime';
import { internal, type lomi } from '@lomi/protocol';
import type { WorkerClient } from './worker-client';

const PAGE = 5000;
const RETRY_MIN_MS = 250;

export interface PlatformBansDeps {
  bus: Bus;
  subjects: Subjects;
  workers: Pick<WorkerClient, 'bannedUsers'>;
  log: Logger;
  resyncMs: number;
  /** Closes the sockets of every user isBanned() says is banned (called after each ban and each load). */
  closeBanned(): void;
  /** How many users are banned, after each change. */
  onCount(count: number): void;
}

/** The moderation workers refused the request (a bug on one side); logged, and retried like an outage. */
export class BannedUsersLoadError extends Error {
  override name = 'BannedUsersLoadError';
}

type Change = lomi.internal.v1.PlatformBanChanged;

export class PlatformBans {
  private banned = new Set<string>();
  /** The version of the last change applied per user since the last load: an older one arriving late is ignored. */
  private versions = new Map<string, number>();
  /** Changes heard while a load is under way, applied again on top of what it loaded. */
  private heardDuringLoad: Change[] | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly subscription;
  private unwatch: (() => void) | undefined;

  constructor(private readonly deps: PlatformBansDeps) {
    this.subscription = deps.bus.subscribe(deps.subjects.events.platformBanChanged, (msg) => {
      let change: Change;
      try {
        change = internal.PlatformBanChanged.decode(msg.data);
      } catch (e) {
        deps.log.warn({ err: e }, 'undecodable PlatformBanChanged event');
        return;
      }
      this.heardDuringLoad?.push(change);
      this.apply(change);
      if (change.banned) deps.closeBanned();
    });
  }

  isBanned(userId: string): boolean {
    return this.banned.has(userId);
  }

  /**
   * Makes the first load (once: a gateway without moderation workers still starts), then keeps
   * loading in the background: after a failure with backoff, else every resyncMs.
   */
  async start(): Promise<void> {
    let failures = (await this.attempt()) ? 0 : 1;
    if (failures) this.deps.log.warn('platform bans not loaded yet: banned users can connect until they are; retrying');
    this.unwatch = this.deps.bus.onStatus((status) => status === 'reconnected' && this.wake?.());
    void (async () => {
      while (!this.stopped) {
        await this.sleep(failures ? Math.min(RETRY_MIN_MS * 2 ** (failures - 1), this.deps.resyncMs) : this.deps.resyncMs);
        if (this.stopped) break;
        failures = (await this.attempt()) ? 0 : failures + 1;
      }
    })();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.unwatch?.();
    this.subscription.unsubscribe();
  }

  private apply(change: Change): void {
    const version = Number(change.version);
    if ((this.versions.get(change.userId) ?? -1) >= version) return;
    this.versions.set(change.userId, version);
    if (change.banned) this.banned.add(change.userId);
    else this.banned.delete(change.userId);
    this.deps.onCount(this.banned.size);
  }

  private async attempt(): Promise<boolean> {
    try {
      await this.load();
      return true;
    } catch (err) {
      this.deps.log.warn({ err }, 'loading the platform bans failed');
      return false;
    }
  }

  private async load(): Promise<void> {
    const heard: Change[] = [];
    this.heardDuringLoad = heard;
    try {
      const loaded = new Set<string>();
      let after = '';
      for (;;) {
        const reply = await this.deps.workers.bannedUsers({ afterUserId: after, limit: PAGE });
        if (reply.error) throw new BannedUsersLoadError(`the moderation workers refused: ${reply.error.message}`);
        for (const id of reply.userIds) loaded.add(id);
        if (!reply.more || reply.userIds.length === 0) break;
        after = reply.userIds.at(-1)!;
      }
      this.banned = loaded;
      this.versions.clear();
      // What was heard meanwhile may be newer than what was read; in version order.
      for (const change of heard.sort((a, b) => Number(a.version) - Number(b.version))) this.apply(change);
      this.deps.onCount(this.banned.size);
      this.deps.closeBanned();
    } finally {
      if (this.heardDuringLoad === heard) this.heardDuringLoad = undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}
