import type { Logger, Subjects } from '@lomi/common';
import type { Pins, Rooms } from '@lomi/rooms';
import type { NatsConnection } from 'nats';
import type { ModerationWorkerConfig } from './config';
import type { Metrics } from './metrics';

/** Everything one worker instance uses; passed explicitly so several workers can share a process. */
export interface ModerationContext {
  config: ModerationWorkerConfig;
  log: Logger;
  nc: NatsConnection;
  subjects: Subjects;
  metrics: Metrics;
  rooms: Rooms;
  pins: Pins;
}
