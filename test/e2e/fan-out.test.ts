// A room with more local sockets than one turn of its fan-out writes to: the fan-out visits the
// room's topics over many event-loop turns, joins land while it is halfway through, and every
// socket must still get every message exactly once, in order, starting right after its join reply.
import { rawViewer, waitFor, type RawViewer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The seqs a viewer got: those in its join reply, then those pushed to it. */
const seen = (v: RawViewer) => [...(v.joined.messages ?? []), ...v.messages()].map((m) => Number(m.seq));

// A turn ends after FANOUT_TURN_SOCKETS sockets or FANOUT_TURN_BYTES bytes, whichever comes first:
// two sockets a turn, or one shard a turn (every frame is more than a byte), make a fan-out to this
// room's ~50 sockets take some 25 or 50 turns.
describe.each([
  ['sockets', { FANOUT_TURN_SOCKETS: '2' }],
  ['bytes', { FANOUT_TURN_BYTES: '1' }],
])('a turn bounded by %s', (_bound, env) => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ gateways: 1, messageWorkers: 1, env });
  });
  afterAll(() => system.stop());

  test('viewers joining during a fan-out that spans many turns get every message once, in order', async () => {
    const room = await system.createLiveRoom(system.user('fan-host'));
    const early = await Promise.all(range(1, 20).map((i) => rawViewer(system, `fan-early-${i}`, room)));
    const senders = await Promise.all(range(1, 4).map((i) => system.connect(system.user(`fan-sender-${i}`))));
    await Promise.all(senders.map((s) => s.join(room)));

    const perSender = 60;
    let acked = 0;
    const sending = Promise.all(
      senders.map(async (sender, i) => {
        for (let n = 0; n < perSender; n++) {
          await sender.send(room, `s${i}-${n}`);
          acked += 1;
        }
      }),
    );
    await waitFor(() => acked >= 30, 'the first 30 messages');
    // Half recover from seq 10, half join fresh, all while messages flow.
    const recovers = (i: number) => i % 2 === 1;
    const late = await Promise.all(range(0, 29).map((i) => rawViewer(system, `fan-late-${i}`, room, recovers(i) ? { sinceSeq: 10 } : {})));
    await sending;
    const total = senders.length * perSender;

    for (const v of early) {
      await waitFor(() => v.messages().length >= total, 'every message');
      expect(seen(v)).toEqual(range(1, total));
    }
    for (const [i, v] of late.entries()) {
      const top = Number(v.joined.topSeq);
      expect(top).toBeLessThan(total);
      const first = recovers(i) ? 11 : top + 1;
      await waitFor(() => seen(v).length >= total - first + 1, 'the rest after the join reply');
      expect(seen(v)).toEqual(range(first, total));
    }
  });
});
