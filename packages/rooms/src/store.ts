import type { Database, Kysely } from '@lomi/db';
import type { HotState } from '@lomi/hot-state';

/** The stores room state lives in: Postgres for the record, the hot state (Redis or memory) for caches and hot state. */
export interface RoomStores {
  db: Kysely<Database>;
  hot: HotState;
}
