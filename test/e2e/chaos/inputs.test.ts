// Issue 23 — hostile input under live traffic: text the database cannot store (U+0000, control
// characters, lone surrogates) in every field a client or the service API sets is refused with
// a client error or stored, and the rooms keep persisting; a few thousand malformed frames
// leave the gateway serving its other clients in order.
import { Encoding, ErrorCode, roomKey, type Room } from '@lomi/client';
import { fuzzGateway, RawSocket, runExperiment, startChaosServers, tablesOf, UpgradeRefusedError, type ChaosServers, type Topology } from '@lomi/testkit';

let servers: ChaosServers;
beforeAll(async () => {
  servers = await startChaosServers();
});
afterAll(() => servers?.dispose());

/** Refusals that tell the client to fix its request; anything else (INTERNAL, UNAVAILABLE, 5xx) is a wrong answer. */
const CLIENT_ERRORS = new Set<number>([
  ErrorCode.ERROR_CODE_BAD_REQUEST,
  ErrorCode.ERROR_CODE_FORBIDDEN,
  ErrorCode.ERROR_CODE_NOT_FOUND,
  ErrorCode.ERROR_CODE_NOT_JOINED,
  ErrorCode.ERROR_CODE_TOO_LARGE,
  10, // ERROR_CODE_LIMIT_EXCEEDED
]);

type Stored = { message: { room: string; seq: number } } | { row: { table: 'live_streams' | 'conversations' | 'live_stream_pins'; id: string } };
interface Probe {
  input: string;
  /** How it was answered: a client error, something stored (checked in Postgres afterwards), or a wrong answer. */
  refused?: string;
  stored?: Stored;
  wrong?: string;
}

const NUL = 'a\u0000b';
const CONTROLS = 'c\u0001\u0008\u001b\u007f';
const LONE = 'x\ud800';
const LOW = '\udfffy';

/** Percent-encoded; a lone surrogate becomes the bytes UTF-8 would give it (ED A0 80), which are not UTF-8. */
function pathSegment(text: string): string {
  return [...text].map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
}

let requestId = 0;
async function overWebSocket(socket: RawSocket, input: string, room: Room, command: Record<string, unknown>): Promise<Probe> {
  try {
    const reply = await socket.request({ requestId: ++requestId, ...command });
    if (!reply) return { input, wrong: `socket closed (${socket.closed?.code} ${socket.closed?.reason})` };
    if (reply.ack) return { input, stored: { message: { room: roomKey(room), seq: Number(reply.ack.seq) } } };
    if (reply.ok) return { input, stored: { row: { table: 'live_stream_pins', id: room.id! } } };
    if (reply.error?.code != null && CLIENT_ERRORS.has(reply.error.code)) return { input, refused: ErrorCode[reply.error.code] };
    return { input, wrong: JSON.stringify(reply.toJSON()) };
  } catch (err) {
    return { input, wrong: (err as Error).message };
  }
}

async function overHttp(topology: Topology, input: string, method: string, path: string, body?: unknown): Promise<Probe> {
  const res = await topology.api(method, path, body).catch((err: Error) => ({ status: 0, body: err.message }));
  if (res.status >= 400 && res.status < 500) return { input, refused: `HTTP ${res.status}` };
  if (res.status === 200 || res.status === 201) {
    const table = path.startsWith('/api/v1/conversations') ? 'conversations' : 'live_streams';
    return { input, stored: { row: { table, id: res.body.id } } };
  }
  return { input, wrong: `HTTP ${res.status} ${JSON.stringify(res.body)}` };
}

/** A user whose JWT `sub` is `sub` sends a text in `room`. */
async function asUser(topology: Topology, input: string, sub: string, room: Room): Promise<Probe> {
  let socket: RawSocket;
  try {
    socket = await RawSocket.open(topology.gateways[0]!.url, await topology.token(sub), Encoding.JSON);
  } catch (err) {
    if (err instanceof UpgradeRefusedError && err.status >= 400 && err.status < 500) return { input, refused: `HTTP ${err.status}` };
    return { input, wrong: (err as Error).message };
  }
  try {
    // A live room takes sends only from sockets that joined it.
    await socket.request({ requestId: ++requestId, join: { room } });
    return await overWebSocket(socket, input, room, { send: { room, clientMsgId: 'sub-probe', text: 'hello' } });
  } finally {
    socket.close();
  }
}

test('text the database cannot store, in every field, is refused with a client error or stored, and the rooms keep persisting', async () => {
  const probes: Probe[] = [];
  let namespace = '';
  const outcome = await runExperiment('unstorable inputs', servers, {}, async ({ topology, traffic }) => {
    namespace = topology.namespace;
    const live = traffic.rooms[0]!;
    const dm = traffic.rooms[traffic.options.liveRooms]!;
    const open = async (user: string) => RawSocket.open(topology.gateways[0]!.url, await topology.token(topology.user(user)), Encoding.JSON);
    const [anyone, member, host] = await Promise.all([open('prober'), open('a0'), open('host0')]);
    await anyone.request({ requestId: ++requestId, join: { room: live } });
    const send = (input: string, room: Room, fields: Record<string, unknown>, socket = anyone) =>
      overWebSocket(socket, input, room, { send: { room, clientMsgId: `probe-${requestId}`, text: 'ok', ...fields } });
    for (const [name, text] of [
      ['U+0000', NUL],
      ['control characters', CONTROLS],
      ['a lone high surrogate', LONE],
      ['a lone low surrogate', LOW],
    ] as const) {
      probes.push(await send(`message text with ${name}`, live, { text }));
      probes.push(await send(`client_msg_id with ${name}`, live, { clientMsgId: text }));
      probes.push(await send(`gift id with ${name}`, live, { text: undefined, gift: { giftId: text, count: 1 } }));
      probes.push(await send(`private message text with ${name}`, dm, { text }, member));
      probes.push(await overWebSocket(host, `pin text with ${name}`, live, { pin: { room: live, text } }));
      probes.push(await asUser(topology, `JWT sub with ${name}`, topology.user(text), live));
      probes.push(await overHttp(topology, `service API broadcaster_id with ${name}`, 'POST', '/api/v1/live', { broadcaster_id: text }));
      probes.push(await overHttp(topology, `service API stream id with ${name}`, 'POST', '/api/v1/live', { broadcaster_id: 'b', id: text }));
      probes.push(await overHttp(topology, `service API user_a with ${name}`, 'POST', '/api/v1/conversations', { user_a: text, user_b: 'u' }));
      probes.push(await overHttp(topology, `service API stream id in a path with ${name}`, 'POST', `/api/v1/live/${pathSegment(text)}/end`));
    }
    for (const socket of [anyone, member, host]) socket.close();
  });
  const failures = outcome.failures();
  const storedSeqs = new Set(outcome.rows.map((r) => `${r.room}#${r.seq}`));
  for (const probe of probes) {
    if (probe.wrong) failures.push(`${probe.input}: ${probe.wrong}`);
    const stored = probe.stored;
    if (stored && 'message' in stored && !storedSeqs.has(`${stored.message.room}#${stored.message.seq}`)) {
      failures.push(`${probe.input}: acked as seq ${stored.message.seq} but never stored in Postgres`);
    }
    if (stored && 'row' in stored) {
      const { table, id } = stored.row;
      const column = table === 'live_stream_pins' ? 'stream_id' : 'id';
      const found = await (await tablesOf(servers.db, namespace)).selectFrom(table).select(column).where(column, '=', id).executeTakeFirst();
      if (!found) failures.push(`${probe.input}: answered as stored but there is no ${table} row ${id}`);
    }
  }
  console.log(`chaos | unstorable inputs: ${probes.map((p) => `${p.input} → ${p.refused ?? (p.stored ? 'stored' : `WRONG ${p.wrong}`)}`).join('; ')}`);
  expect(failures).toEqual([]);
}, 120_000);

test('a few thousand malformed frames: the gateway answers them and its other clients keep receiving in order', async () => {
  const outcome = await runExperiment('fuzz, 3,000 malformed frames', servers, { traffic: { viewerGateway: 0 } }, async ({ topology, problems, notes }) => {
    const gateway = topology.gateways[0]!;
    const pid = gateway.pid;
    let n = 0;
    const report = await fuzzGateway(gateway.url, () => topology.token(topology.user(`fuzzer${n++}`)), { frames: 3000, seed: 23 });
    notes.push(`${report.errors} error frames, closes ${JSON.stringify(report.closes)}, sent ${JSON.stringify(report.sent)}`);
    if (report.unansweredPings > 0) problems.push(`${report.unansweredPings} pings on fuzzed sockets got no pong`);
    if (!gateway.running || gateway.pid !== pid) problems.push(`the fuzzed gateway died:\n${gateway.output()}`);
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);
