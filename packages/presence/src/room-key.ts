import { roomKindOfName, type Room } from '@lomi/protocol';

/** The room a roomKey (@lomi/protocol) names, as the stores keep rooms by it. */
export function parseRoomKey(key: string): Room | undefined {
  const colon = key.indexOf(':');
  const kind = roomKindOfName(key.slice(0, colon));
  return kind === undefined ? undefined : { kind, id: key.slice(colon + 1) };
}
