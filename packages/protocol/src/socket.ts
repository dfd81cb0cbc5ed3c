// How a client reaches the chat socket and how the gateway closes it: the names the gateway, the SDK
// and the tests share. No generated code here, so the browser SDK bundles it without protobufjs.

/** The gateway's WebSocket endpoint. */
export const WS_PATH = '/api/v1/ws/chat';

/** A subprotocol entry carrying the JWT, for browsers that cannot set an Authorization header. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'lomi.token.';

/** Sec-WebSocket-Protocol values: binary protobuf frames (the default when a client names none) or the proto3 JSON mapping. */
export const Encoding = {
  PROTO: 'lomi.v1.proto',
  JSON: 'lomi.v1.json',
} as const;
export type Encoding = (typeof Encoding)[keyof typeof Encoding];

/** WebSocket close codes; see the end of chat.proto. */
export const CloseCode = {
  SHUTDOWN: 4000,
  SLOW_CONSUMER: 4001,
  RECOVERY_IMPOSSIBLE: 4002,
  AUTH_FAILED: 4401,
  BANNED: 4403,
} as const;

/** A close code that says "come back" (4000–4099: shutdown, slow consumer, recovery impossible here). */
export function isReconnectCode(code: number): boolean {
  return code >= 4000 && code <= 4099;
}
