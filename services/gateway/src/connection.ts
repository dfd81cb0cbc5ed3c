import type { Encoding } from '@lomi/protocol';
import type { RoomChannel } from './room-channel';
import type { RoomMember } from './room-member';
import type { WebSocket } from './uws';

/** Everything a gateway knows about one socket; lost with the gateway, by design. */
export interface Connection extends RoomMember {
  id: string;
  userId: string;
  /** The client's address (limits.ts clientAddress), for the per-address limits. */
  ip: string;
  encoding: Encoding;
  /** Unix seconds (every accepted token expires); moved on by an in-band refresh. */
  tokenExpiresAt: number;
  /** The token's next event: the token_expiring notice, then the 4401 close (token-lifetime.ts). */
  tokenTimer?: NodeJS.Timeout;
  /** Joined rooms by room key. */
  rooms: Map<string, RoomChannel<Connection>>;
  /** Rooms with a join in flight, so a duplicate join cannot double-subscribe. */
  joining: Set<string>;
  /** Rooms this socket was taken out of by a ban: a send there is BANNED until a join succeeds. */
  bannedFrom: Set<string>;
  ws?: WebSocket<Connection>;
  closed: boolean;
}
