export { createDispatcher, type AfterReply, type Endpoint, type RequestHandler } from './dispatcher';
export { createApiDispatcher, createCommandDispatcher, createServiceDispatcher, type ApiRoutes, type ClientRequest } from './endpoints';
