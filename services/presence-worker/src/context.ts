import type { Keys, Logger, Subjects } from '@lomi/common';
import type { Database } from '@lomi/db';
import type Redis from 'ioredis';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { PresenceWorkerConfig } from './config';
import type { Metrics } from './metrics';

/** Everything one worker instance uses; passed explicitly so several workers can share a process. */
export interface PresenceContext {
  config: PresenceWorkerConfig;
  log: Logger;
  nc: NatsConnection;
  redis: Redis;
  db: Kysely<Database>;
  keys: Keys;
  subjects: Subjects;
  metrics: Metrics;
}
