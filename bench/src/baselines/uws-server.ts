// Baseline 1, the ceiling: bare uWebSockets.js with its built-in topic publish, no auth, no
// storage, one process. A viewer sends "join" and is subscribed; any other text is a chat
// message: echoed to its sender as the ack, and published to every viewer from setImmediate —
// in the rooms scenario "join:<room>" subscribes to that room's topic and "#<room>|<text>" sends
// <text> to it —
// publishing inside the message handler (where the sender is corked) hits the uWS fallback to
// one send per message (see shared/design-notes.md).
import type * as UWS from 'uWebSockets.js';
import { exitWithParent, tellParent } from '../child';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon at a path computed for this platform
const uws = require(`uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`) as typeof UWS;

const TOPIC = 'live';
/** Same limit as the gateway's MAX_BACKPRESSURE_BYTES default, so slow viewers are treated alike. */
const MAX_BACKPRESSURE = 1024 * 1024;

const app = uws.App();
let queued: [string, ArrayBuffer][] = [];

function publishQueued(): void {
  const batch = queued;
  queued = [];
  for (const [topic, message] of batch) app.publish(topic, message, false);
}

const J = 0x6a;
const HASH = 0x23;
const BAR = 0x7c;

app.ws('/*', {
  compression: uws.DISABLED,
  idleTimeout: 120,
  maxBackpressure: MAX_BACKPRESSURE,
  closeOnBackpressureLimit: 1,
  message: (ws, message) => {
    const bytes = new Uint8Array(message);
    // Chat texts start with a digit or HASH.
    if (bytes[0] === J) {
      ws.subscribe(message.byteLength === 4 ? TOPIC : Buffer.from(message, 5).toString('latin1'));
      ws.send('joined', false);
      return;
    }
    let topic = TOPIC;
    let text = message;
    if (bytes[0] === HASH) {
      const bar = bytes.indexOf(BAR);
      topic = Buffer.from(message, 1, bar - 1).toString('latin1');
      text = message.slice(bar + 1);
    } else text = message.slice(0);
    ws.send(text, false);
    if (queued.length === 0) setImmediate(publishQueued);
    // uWS reuses `message` after the handler returns (hence the copies above).
    queued.push([topic, text]);
  },
});

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('uWS baseline could not listen');
  tellParent({ type: 'ready', port: uws.us_socket_local_port(socket) });
});
exitWithParent();
