// Joins and leaves of live viewers become SYSTEM messages (stored, with seq, replayable): one each
// in a small room, one digest per interval above JOIN_AGGREGATE_ABOVE (before or after the
// change) or past the room's few single messages per interval, none above JOIN_MESSAGES_MAX_ROOM
// — while the viewer count keeps counting everyone.
import { MessageKind, type ChatMessage, type LomiClient, type Room } from '@lomi/client';
import { MessageLog, rawViewer, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let aggregating: TestSystem;
let capped: TestSystem;

beforeAll(async () => {
  const env = { PRESENCE_SWEEP_MS: '100', JOIN_LEAVE_MESSAGES: 'true', JOIN_MESSAGES_MAX_ROOM: '1000' };
  [aggregating, capped] = await Promise.all([
    startSystem({ gateways: 2, env: { ...env, JOIN_AGGREGATE_ABOVE: '3', JOIN_AGGREGATE_INTERVAL_MS: '2000' } }),
    startSystem({ gateways: 2, env: { ...env, JOIN_AGGREGATE_ABOVE: '1', JOIN_MESSAGES_MAX_ROOM: '2', JOIN_AGGREGATE_INTERVAL_MS: '500' } }),
  ]);
});
afterAll(() => Promise.all([aggregating, capped].map((s) => s?.stop())));

const systemMessages = (log: MessageLog, room: Room): ChatMessage[] => log.in(room).filter((m) => m.kind === MessageKind.MESSAGE_KIND_SYSTEM);

async function joinAll(s: TestSystem, room: Room, names: string[]): Promise<LomiClient[]> {
  const clients = await Promise.all(names.map((n, i) => s.connect(s.user(n), { gateway: i % 2 })));
  for (const c of clients) await c.join(room);
  return clients;
}

/** The first viewer, with a log of everything said in the room from before its own join. */
async function observe(s: TestSystem, room: Room, name: string): Promise<{ observer: LomiClient; log: MessageLog }> {
  const observer = await s.connect(s.user(name));
  const log = new MessageLog(observer);
  await observer.join(room);
  return { observer, log };
}

test('20 joins above the threshold make one aggregated message; leaves are gathered the same way', async () => {
  const s = aggregating;
  const room = await s.createLiveRoom(s.user('caster'));
  const { observer, log } = await observe(s, room, 'obs');
  await joinAll(s, room, ['p1', 'p2']);
  await log.waitFor(room, 3);

  const crowd = await joinAll(
    s,
    room,
    Array.from({ length: 20 }, (_, i) => `crowd${i}`),
  );
  await log.waitFor(room, 4);
  const said = systemMessages(log, room);
  // Gateways report joins in batches, so the first three may be announced in any order.
  expect(
    said
      .slice(0, 3)
      .map((m) => m.content)
      .sort(),
  ).toEqual([`${s.user('obs')} joined`, `${s.user('p1')} joined`, `${s.user('p2')} joined`].sort());
  expect(said[3]!.content).toMatch(new RegExp(`^crowd\\d+-${s.namespace} and 19 others joined$`));
  expect(said.map((m) => Number(m.seq))).toEqual([1, 2, 3, 4]);
  expect(said[3]!.senderId).toBe('');

  // Stored like any message: history replays them.
  const history = await observer.history(room);
  expect(history.messages!.map((m) => m.content)).toEqual(said.map((m) => m.content));

  // In a room of 23, five leaves make one digest too.
  await Promise.all(crowd.slice(0, 5).map((c) => c.close()));
  const [, , , , left] = await log.waitFor(room, 5);
  expect(left!.content).toMatch(/^.+ and 4 others left$/);
});

test('above JOIN_MESSAGES_MAX_ROOM nothing is said, and the viewer count still counts', async () => {
  const s = capped;
  const room = await s.createLiveRoom(s.user('caster'));
  const { observer, log } = await observe(s, room, 'v1');
  // v1 alone: a message of its own; v2 makes the room 2 (a digest, of one); v3 and v4 make it
  // bigger than the maximum, so nothing else follows. Each step waits for the one before: a
  // gateway reports joins in batches, and joins of one batch arrive together.
  await log.waitFor(room, 1);
  await joinAll(s, room, ['v2']);
  await log.waitFor(room, 2);
  await joinAll(s, room, ['v3', 'v4']);
  await s.pushes(observer).waitFor('viewers', (v) => Number(v.count) === 4);
  const history = await observer.history(room);
  expect(history.messages!.map((m) => m.content)).toEqual([`${s.user('v1')} joined`, `${s.user('v2')} joined`]);
});

test('a small room announces a leave as it happens', async () => {
  const s = aggregating;
  const room = await s.createLiveRoom(s.user('caster'));
  const { log } = await observe(s, room, 'host');
  const [guest] = await joinAll(s, room, ['guest']);
  await guest!.leave(room);
  await waitFor(() => systemMessages(log, room).some((m) => m.content === `${s.user('guest')} left`), 'the leave message');
  expect(systemMessages(log, room).map((m) => m.content)).toEqual([`${s.user('host')} joined`, `${s.user('guest')} joined`, `${s.user('guest')} left`]);
});

/** How many viewers a join/leave message speaks for: "a left" 1, "a and 1 other left" 2, "a and 9 others left" 10. */
function viewersIn(content: string): number {
  const others = /and (\d+) others? (joined|left)$/.exec(content);
  return others ? Number(others[1]) + 1 : 1;
}

test('500 viewers leaving at once, and arriving at once, make a handful of messages, not 500', async () => {
  const s = aggregating;
  const room = await s.createLiveRoom(s.user('caster'));
  const { log } = await observe(s, room, 'stayer');
  const viewers = [];
  for (let i = 0; i < 500; i += 50) {
    viewers.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => rawViewer(s, `mass${i + j}`, room)))));
  }
  const said = (kind: 'joined' | 'left') => systemMessages(log, room).filter((m) => m.content!.endsWith(` ${kind}`));
  const counted = (kind: 'joined' | 'left') => said(kind).reduce((n, m) => n + viewersIn(m.content!), 0);
  await waitFor(() => counted('joined') === 501, 'every join announced', 20_000);

  for (const v of viewers) v.ws.terminate();
  await waitFor(() => counted('left') === 500, 'every leave announced', 20_000);
  // The room ends as small as it began: only the burst tells a drain from ordinary traffic.
  expect(said('left').length).toBeLessThanOrEqual(3);
  expect(said('joined').length).toBeLessThanOrEqual(6);
});
