// The word filter on the send path, end to end: the deployment's block list (WORD_FILTER_FILE,
// here refusing) and a live room's own list (set by its moderators, here masking or refusing).
// Disguised terms are caught, innocent words that contain one are not touched; a refused message
// leaves nothing stored, a masked one is stored and delivered masked; private rooms get the
// deployment's list; a room with its filter off gets none; a changed room list applies at once.
import { ErrorCode, type LomiClient, type Room } from '@lomi/client';
import { FilterAction, type lomi } from '@lomi/protocol';
import { loadMessageWorkerConfig } from '@lomi/message-worker';
import { DEFAULT_URLS, within } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let system: TestSystem;

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'lomi-words-')), 'blocked.txt');
  writeFileSync(file, '# the deployment list\nfuck\nshit\nass\ncunt\n\nrape\ncock\nbitch\nkill yourself\n');
  system = await startSystem({ gateways: 2, messageWorkers: 2, env: { WORD_FILTER_FILE: file, WORD_FILTER_ACTION: 'refuse' } });
});
afterAll(() => system.stop());

async function setSettings(client: LomiClient, room: Room, settings: Omit<lomi.chat.v1.ISetRoomSettings, 'room'>) {
  return (await client.request({ setRoomSettings: { room, ...settings } })).roomSettings!;
}

const blocked = { code: ErrorCode.ERROR_CODE_BLOCKED_TERM, message: 'ERROR_CODE_BLOCKED_TERM: the message contains a blocked term' };

// Each disguise of a deployment term, as a sender would write it.
const EVASIONS = [
  'FUCK this',
  'what the fück',
  'ｆｕｃｋ you', // fullwidth
  'fu\u0441k', // Cyrillic es
  'f\u200buck', // zero-width space
  'c\u00adu\u00adn\u00adt', // soft hyphens
  'fuuuuuck',
  'oh shiiiiiit',
  'f.u.c.k',
  'f u c k you',
  'f_u-c*k',
  'sh1t',
  '$h!t',
  'you a$$',
  '@ss',
  'c0ck',
  'r4pe',
  'b1tch',
  'ſhit', // long s
  'k1ll   y0urself',
];

// Innocent words that contain a blocked one.
const INNOCENT = [
  'class',
  'assassin',
  'Scunthorpe',
  'grape',
  'therapist',
  'cocktail',
  'shiitake mushrooms',
  'compass',
  'bass guitar',
  'passage',
  'harassment',
  'assessment',
  'skyscraper',
  'kill the boss, yourself',
];

test('a table of evasions is refused with BLOCKED_TERM through either gateway, and nothing is stored', async () => {
  const room = await system.createLiveRoom(system.user('fa-host'));
  const host = await system.connect(system.user('fa-host'));
  const senders = [
    await system.connect(system.user('fa-viewer'), { gateway: 0, join: room }),
    await system.connect(system.user('fa-viewer'), { gateway: 1, join: room }),
  ];
  const caught: string[] = [];
  for (const [i, text] of EVASIONS.entries()) {
    await senders[i % 2]!.send(room, text).then(
      () => undefined,
      (err: unknown) => {
        expect(err).toMatchObject(blocked);
        caught.push(text);
      },
    );
  }
  expect(caught).toEqual(EVASIONS);
  expect((await host.history(room)).messages).toEqual([]);
});

test('a table of innocent words is stored and delivered untouched', async () => {
  const room = await system.createLiveRoom(system.user('fb-host'));
  const host = await system.connect(system.user('fb-host'), { gateway: 1 });
  await host.join(room);
  const viewer = await system.connect(system.user('fb-viewer'), { join: room });
  for (const text of INNOCENT) await viewer.send(room, text);
  const { messages } = await host.history(room);
  expect(messages!.map((m) => m.content)).toEqual(INNOCENT);
});

test("a room's masking list masks the span where the sender wrote it; the deployment's refusing list still refuses", async () => {
  const room = await system.createLiveRoom(system.user('fc-host'));
  const host = await system.connect(system.user('fc-host'));
  await host.join(room);
  const watcher = await system.connect(system.user('fc-watcher'), { gateway: 1 });
  await watcher.join(room);
  const delivered: string[] = [];
  watcher.on('message', (m) => delivered.push(m.content ?? ''));
  await setSettings(host, room, { blockedTerms: { terms: ['spoiler', 'scam*'] }, blockedTermsAction: FilterAction.FILTER_ACTION_MASK });

  const viewer = await system.connect(system.user('fc-viewer'), { join: room });
  const ack = await within(1000, async () => {
    const sent = await viewer.send(room, 'big SP0ILER: he dies');
    const [stored] = (await viewer.history(room, { afterSeq: Number(sent.seq) - 1, limit: 1 })).messages!;
    expect(stored!.content).toBe('big *******: he dies');
    return sent;
  });
  await viewer.send(room, 'these scammers again');
  await expect(viewer.send(room, 'spoiler: sh1t happens')).rejects.toMatchObject(blocked);

  const { messages } = await host.history(room, { afterSeq: Number(ack.seq) - 1 });
  expect(messages!.map((m) => m.content)).toEqual(['big *******: he dies', 'these ******** again']);
  await within(2000, async () => expect(delivered.slice(-2)).toEqual(['big *******: he dies', 'these ******** again']));
});

test('a refusing room list refuses; a changed list applies at once; a room with its filter off lets everything through', async () => {
  const room = await system.createLiveRoom(system.user('fd-host'));
  const host = await system.connect(system.user('fd-host'));
  const viewer = await system.connect(system.user('fd-viewer'), { gateway: 1, join: room });
  await setSettings(host, room, { blockedTerms: { terms: ['alpha'] } });
  await within(1000, () => expect(viewer.send(room, 'ALPHA team')).rejects.toMatchObject(blocked));
  await viewer.send(room, 'beta team');

  await setSettings(host, room, { blockedTerms: { terms: ['beta'] } });
  await within(1000, () => expect(viewer.send(room, 'b e t a')).rejects.toMatchObject(blocked));
  await viewer.send(room, 'alpha is fine now');

  await setSettings(host, room, { wordFilter: false });
  await within(1000, () => viewer.send(room, 'beta and sh1t'));
  const { messages } = await host.history(room);
  expect(messages!.map((m) => m.content)).toEqual(['beta team', 'alpha is fine now', 'beta and sh1t']);
});

test("private rooms get the deployment's list", async () => {
  const [a, b] = [system.user('fe-a'), system.user('fe-b')];
  const dm = await system.createPrivateRoom(a, b);
  const alice = await system.connect(a);
  await expect(alice.send(dm, 'you b1tch')).rejects.toMatchObject(blocked);
  await alice.send(dm, 'a classic cocktail');
  const { messages } = await alice.history(dm);
  expect(messages!.map((m) => m.content)).toEqual(['a classic cocktail']);
});

test('a deployment list that cannot be read or compiled stops the worker at start, saying why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lomi-words-'));
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, 'fine\nb*d\n');
  const env = { ...DEFAULT_URLS, JWT_SECRET: 'x'.repeat(32), SERVICE_TOKEN: 'y'.repeat(32) };
  expect(() => loadMessageWorkerConfig({ ...env, WORD_FILTER_FILE: bad })).toThrow(/WORD_FILTER_FILE.*term 1 "b\*d" has a '\*' inside/);
  expect(() => loadMessageWorkerConfig({ ...env, WORD_FILTER_FILE: join(dir, 'missing.txt') })).toThrow(/WORD_FILTER_FILE.*cannot read .*missing\.txt/);
  expect(() => loadMessageWorkerConfig({ ...env, WORD_FILTER_ACTION: 'delete' })).toThrow(/WORD_FILTER_ACTION/);
});
