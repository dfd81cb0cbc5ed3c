export { conversationMembers, createRooms, type RoomAction, type RoomFacts, type Rooms, type SeenFacts } from './facts';
export { createRoomMetaStore, type RoomMetaStore } from './room-meta';
export { roomMetaOf } from './room-meta-memory';
export { createPinStore, type PinStore } from './pin-store';
export { createPins, type Pins } from './pins';
export type { RoomStores } from './store';
