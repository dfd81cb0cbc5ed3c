import type { Keys } from '@lomi/common';
import type { Database } from '@lomi/db';
import type Redis from 'ioredis';
import type { Kysely } from 'kysely';

/** The stores room state lives in: Postgres for the record, Redis for the cache and hot state. */
export interface RoomStores {
  db: Kysely<Database>;
  redis: Redis;
  keys: Keys;
}
