// Node's Buffer for the bundle: @lomi/protocol uses it at load time (push-frames.ts) and to read
// JSON frames. Goes once the SDK has a browser build without Node-only code (issue 26).
export { Buffer } from 'buffer';
