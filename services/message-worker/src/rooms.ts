// Room facts and authorisation are shared with the other workers (@lomi/rooms), so every worker
// refuses alike; re-exported here for this worker's modules.
export { validRoom } from '@lomi/validation';
export { conversationMembers, createRooms, type RoomFacts, type Rooms } from '@lomi/rooms';
