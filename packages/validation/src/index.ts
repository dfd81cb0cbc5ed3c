export { randomId } from './ids';
export { roomProblem, validRoom, validRoomId } from './room';
export { storableId, storableText, storableUserId, unstorable, userIdProblem, USER_ID_MAX, type TextKind } from './text';
