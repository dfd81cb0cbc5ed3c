export { badRequest, InternalError, RequestError, UnavailableError, UnreachableError } from './errors';
export { isUnavailable, sqlStateOf } from './unavailable';
export { errorCodeName, failureOf, httpStatusOf, type FailureLog } from './protocol-errors';
