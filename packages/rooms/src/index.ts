export { connectWorker, type WorkerEnv } from './connect';
export { conversationMembers, createRooms, type RoomAction, type RoomFacts, type Rooms, type SeenFacts } from './facts';
export { createPins, type Pins } from './pins';
export type { RoomStores } from './store';
export { rejection, replyHandler, startWorker, type RunningWorker, type WorkerContext, type WorkerDefinition } from './worker-lifecycle';
