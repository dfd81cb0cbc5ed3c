export { connectWorker, type WorkerEnv } from './connect';
export { rejection, replyHandler } from './replies';
export { createResponder, type Responder } from './responder';
export { startWorker, type RunningWorker, type WorkerContext, type WorkerDefinition } from './worker-lifecycle';
