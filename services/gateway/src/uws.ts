// Loads the native uWebSockets.js build directly. The package's own entry point silently falls
// back to a pure-JS server when the binary does not load; a gateway running that way would be
// an order of magnitude slower without anyone noticing, so we refuse to start instead.
import type * as UWS from 'uWebSockets.js';

function loadNative(): typeof UWS {
  const file = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as typeof UWS;
  } catch (err) {
    throw new Error(
      `the native uWebSockets.js build ${file} does not load on this platform (Node ${process.version}); ` + `refusing to start without it: ${(err as Error).message}`,
    );
  }
}

export const uws = loadNative();

/** The native app also has close() (ends every socket), which the bundled typings omit. */
export type TemplatedApp = UWS.TemplatedApp & { close(): void };
export const createApp = (): TemplatedApp => uws.App() as TemplatedApp;
export type { WebSocket, WebSocketBehavior, HttpResponse, HttpRequest, us_listen_socket } from 'uWebSockets.js';
