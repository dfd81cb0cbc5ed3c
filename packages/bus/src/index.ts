export { BusClosedError, NoResponderError, PayloadTooLargeError, type Bus, type BusMessage, type BusStatus, type BusSubscription, type SubscribeOptions } from './bus';
export { connectBus, connectNatsBus, createNatsBus, type NatsBusOptions } from './nats-bus';
export { MEMORY_BUS_SCHEME, MemoryBroker, processBroker } from './memory-bus';
export { createSubjects, QueueGroup, type Subjects, type WorkerKind } from './subjects';
export { busDependency } from './readiness';
