// @lomi/client as an app team gets it: `pnpm pack`, installed from the tarball into an empty
// folder (its dependencies from the npm registry, none from this workspace), then used there
// against a running system through both module systems. And the browser build: no internal bus
// code, no Node-only import, and the SDK's restated protocol names equal @lomi/protocol's.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as sdk from '@lomi/client';
import * as protocol from '@lomi/protocol';
import { startSystem, type TestSystem } from '../support/system';

const clientDir = resolve(__dirname, '../../packages/client');
let system: TestSystem;
let app: string;

beforeAll(async () => {
  system = await startSystem();
  app = mkdtempSync(join(tmpdir(), 'lomi-sdk-app-'));
  execFileSync('pnpm', ['pack', '--pack-destination', app], { cwd: clientDir, stdio: 'pipe' });
  const tarball = readdirSync(app).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'sdk-app', private: true }));
  // Node 20 has no global WebSocket: `ws` is the SDK's optional peer there.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', `./${tarball}`, 'ws@8.18.3'], { cwd: app, stdio: 'pipe' });
}, 180_000);
afterAll(async () => {
  await system?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** An app using the installed package: joins, sends, and prints its ack and the message it saw. */
function appScript(load: string): string {
  return `${load}
(async () => {
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: process.env.ROOM_ID };
  const client = await LomiClient.connect({ url: process.env.URL, token: process.env.TOKEN });
  const seen = new Promise((resolve) => client.on('message', resolve));
  await client.join(room);
  const ack = await client.send(room, process.env.TEXT);
  const message = await seen;
  let refused = '';
  await client.join({ kind: RoomKind.ROOM_KIND_LIVE, id: 'no-such-room' }).catch((e) => (refused = e.name + ' ' + (e instanceof LomiError)));
  await client.close();
  console.log(JSON.stringify({ seq: Number(ack.seq), content: message.content, state: client.state, refused }));
})().catch((e) => { console.error(e); process.exit(1); });
`;
}

function run(file: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: app, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${file} exited ${code}: ${err}`))));
  });
}

test('the packed tarball installs into an empty folder and works there, as ESM and as CommonJS', async () => {
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/@lomi/client/package.json'), 'utf8'));
  expect(installed.private).toBeUndefined();
  expect(Object.keys(installed.dependencies ?? {})).toEqual([]);
  writeFileSync(join(app, 'app.mjs'), appScript(`import { LomiClient, LomiError, RoomKind } from '@lomi/client';`));
  writeFileSync(join(app, 'app.cjs'), appScript(`const { LomiClient, LomiError, RoomKind } = require('@lomi/client');`));
  const room = await system.createLiveRoom(system.user('pack-caster'));
  const env = { URL: system.wsUrl(), TOKEN: await system.token(system.user('pack-user')), ROOM_ID: room.id! };
  const esm = JSON.parse(await run('app.mjs', { ...env, TEXT: 'from esm' }));
  const cjs = JSON.parse(await run('app.cjs', { ...env, TEXT: 'from cjs' }));
  expect(esm).toEqual({ seq: 1, content: 'from esm', state: 'closed', refused: 'NotFoundError true' });
  expect(cjs).toEqual({ seq: 2, content: 'from cjs', state: 'closed', refused: 'NotFoundError true' });
  // Types ship with it, and point at nothing outside the package.
  const types = readFileSync(join(app, 'node_modules/@lomi/client/dist/index.d.ts'), 'utf8');
  expect(types).toContain('LomiClient');
  expect(types).not.toContain('@lomi/protocol');
});

test('the browser build has no internal bus code and no Node-only import', () => {
  const browser = readFileSync(join(app, 'node_modules/@lomi/client/dist/browser.min.mjs'), 'utf8');
  for (const bus of ['internal.v1', 'CommandRequest', 'RangeRequest', 'RoomEvent']) expect(browser).not.toContain(bus);
  expect(browser).not.toMatch(/\brequire\(|from\s*["'](node:|ws["'])|import\(["']ws["']\)/);
  expect(browser).toContain('lomi.v1.proto');
});

test("the SDK's restated protocol names are @lomi/protocol's", () => {
  expect(sdk.CloseCode).toEqual(protocol.CloseCode);
  expect(sdk.Encoding).toEqual(protocol.Encoding);
  expect(sdk.TOKEN_SUBPROTOCOL_PREFIX).toBe(protocol.TOKEN_SUBPROTOCOL_PREFIX);
  expect(sdk.ErrorCode).toEqual(protocol.ErrorCode);
  expect(sdk.WS_PATH).toBe(protocol.WS_PATH);
  const room = { kind: protocol.RoomKind.ROOM_KIND_PRIVATE, id: 'a-b' };
  expect(sdk.roomKey(room)).toBe(protocol.roomKey(room));
});
