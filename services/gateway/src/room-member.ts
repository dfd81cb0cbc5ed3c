import type { Encoding } from '@lomi/protocol';
import type { WebSocket } from './uws';

/** The parts of a uWS socket that a room and the writes to one socket use. */
export type MemberSocket = Pick<WebSocket<unknown>, 'send' | 'end' | 'subscribe' | 'unsubscribe' | 'getBufferedAmount'>;

/** A socket as its rooms see it: what fan-out and room events need of a connection (connection.ts). */
export interface RoomMember {
  readonly userId: string;
  readonly encoding: Encoding;
  readonly closed: boolean;
  readonly ws?: MemberSocket;
  /** Joined rooms by room key (a member still joining is not in it yet). */
  readonly rooms: ReadonlyMap<string, unknown>;
}
