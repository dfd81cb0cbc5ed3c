// The Node entry of @lomi/client: the browser entry plus the `ws` package as the WebSocket when
// the runtime has none (Node 20). `ws` is an optional peer dependency, loaded only then.
import { setWebSocketFallback, type WebSocketConstructor } from './transport';

setWebSocketFallback(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- keeps tsc from looking for ws's types, which the client does not depend on
  const ws = (await import('ws' as string)) as unknown as { default: WebSocketConstructor };
  return ws.default;
});

export * from './index';
