import type { Pins, Rooms, WorkerContext } from '@lomi/rooms';
import type { ModerationWorkerConfig } from './config';
import type { Metrics } from './metrics';

/** The shared worker context plus the room facts and pin store every handler here needs. */
export type ModerationContext = WorkerContext<ModerationWorkerConfig, Metrics> & { rooms: Rooms; pins: Pins };
