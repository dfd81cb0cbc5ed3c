// Baseline 1, the ceiling: bare uWebSockets.js with its built-in topic publish, no auth, no
// storage, one process. A viewer sends "join" and is subscribed; any other text is a chat
// message: echoed to its sender as the ack, and published to every viewer from setImmediate —
// publishing inside the message handler (where the sender is corked) hits the uWS fallback to
// one send per message (see shared/design-notes.md).
import type * as UWS from 'uWebSockets.js';
import { exitWithParent, tellParent } from '../child';

const uws = require(`uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`) as typeof UWS;

const TOPIC = 'live';
/** Same limit as the gateway's MAX_BACKPRESSURE_BYTES default, so slow viewers are treated alike. */
const MAX_BACKPRESSURE = 1024 * 1024;

const app = uws.App();
let queued: ArrayBuffer[] = [];

function publishQueued(): void {
  const batch = queued;
  queued = [];
  for (const message of batch) app.publish(TOPIC, message, false);
}

app.ws('/*', {
  compression: uws.DISABLED,
  idleTimeout: 120,
  maxBackpressure: MAX_BACKPRESSURE,
  closeOnBackpressureLimit: 1,
  message: (ws, message) => {
    if (message.byteLength === 4 && Buffer.from(message).toString('latin1') === 'join') {
      ws.subscribe(TOPIC);
      ws.send('joined', false);
      return;
    }
    ws.send(message, false);
    if (queued.length === 0) setImmediate(publishQueued);
    // uWS reuses `message` after the handler returns.
    queued.push(message.slice(0));
  },
});

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('uWS baseline could not listen');
  tellParent({ type: 'ready', port: uws.us_socket_local_port(socket) });
});
exitWithParent();
