// The demo web client (apps/web, as `pnpm build` left it in apps/web/dist) in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core), served by a real system's gateway with
// its development routes: what two people see of each other in a private chat, a live room seen
// by its broadcaster and a viewer (pins, gifts, a deletion shown as a tombstone, a timeout and a
// ban), and a send made while the network is cut arriving once after.
// A screenshot of each view goes to test-artifacts/web-client/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startTcpProxy } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const WEB_CLIENT_DIR = path.resolve(__dirname, '../../apps/web/dist');
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/web-client');
/** Reconnects back off up to 10 s (the SDK's full jitter), and a cold Chromium is slow on 2 cores. */
const WAIT_MS = 30_000;

jest.setTimeout(120_000);

let system: TestSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Uncaught errors of the pages, which fail the test they happen in. */
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  system = await startSystem({ env: { DEV_TOKENS: 'true', WEB_CLIENT_DIR, JOIN_LEAVE_MESSAGES: 'true' } });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});
afterAll(async () => {
  await browser?.close();
  await system?.stop();
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  expect(pageErrors.splice(0)).toEqual([]);
});

/** A browser profile of its own (as a second person's browser) logged in as `userId`. */
async function login(userId: string, baseUrl = system.httpUrl()): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (err) => pageErrors.push(`${userId}: ${err.message}`));
  await page.goto(`${baseUrl}/`);
  await page.fill('#login input', userId);
  await page.click('#login button');
  await page.waitForSelector('#app[data-view="home"]');
  await page.waitForSelector('#status[data-state="connected"]');
  return { page, context };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The message list's entries whose text is exactly `text` (`li .text`, or a system line). */
function entries(page: Page, text: string) {
  return page.locator('#messages li').filter({ has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }) });
}

async function openPrivate(page: Page, peerId: string): Promise<string> {
  await page.fill('#open-private input', peerId);
  await page.click('#open-private button');
  await page.waitForSelector('#app[data-view="private"]');
  return (await page.textContent('#room-id'))!;
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

test('two people chat privately and see each other typing and reading', async () => {
  const [alice, bob] = [system.user('alice'), system.user('bob')];
  const a = await login(alice);
  await screenshot(a.page, 'login-home');
  const b = await login(bob);
  const roomId = await openPrivate(a.page, bob);
  expect(await openPrivate(b.page, alice)).toBe(roomId);

  // Alice types: Bob sees it, and it goes away when her message arrives.
  await a.page.type('#text', 'hello bob', { delay: 20 });
  await b.page.waitForSelector(`#typing:has-text("${alice} is typing")`);
  await screenshot(b.page, 'private-typing');
  await a.page.press('#text', 'Enter');
  await entries(b.page, 'hello bob').waitFor();
  // A string: it runs in the page, whose DOM types the tests' compilation does not include.
  await b.page.waitForFunction("document.querySelector('#typing')?.textContent === ''");

  // Bob has the chat open, so he read it: Alice's message gets its "seen" tick.
  const mine = entries(a.page, 'hello bob');
  await mine.locator('.tick.read').waitFor();
  expect(await mine.getAttribute('data-seq')).toBe('1');

  // And the other way round.
  await b.page.type('#text', 'hi alice', { delay: 20 });
  await a.page.waitForSelector(`#typing:has-text("${bob} is typing")`);
  await b.page.press('#text', 'Enter');
  await entries(a.page, 'hi alice').waitFor();
  await entries(b.page, 'hi alice').locator('.tick.read').waitFor();
  // Each message once on each side, in order.
  for (const page of [a.page, b.page]) {
    expect(await page.locator('#messages li .text').allTextContents()).toEqual(['hello bob', 'hi alice']);
  }
  await screenshot(a.page, 'private-alice');
  await screenshot(b.page, 'private-bob');
});

test('a broadcaster page and a viewer page see viewers, join and leave lines, a pin, a gift, a deletion, a timeout and a ban', async () => {
  const [host, fan] = [system.user('host'), system.user('fan')];
  const h = await login(host);
  await h.page.click('#start-live');
  await h.page.waitForSelector('#app[data-view="broadcaster"]');
  const streamId = (await h.page.textContent('#room-id'))!;

  const v = await login(fan);
  await v.page.fill('#watch-live input', streamId);
  await v.page.click('#watch-live button');
  await v.page.waitForSelector('#app[data-view="live"]');
  // A viewer gets no broadcaster controls.
  expect(await v.page.locator('#broadcaster-panel').count()).toBe(0);

  await h.page.waitForSelector('#viewers:has-text("2 watching")');
  await h.page.waitForSelector(`#messages li.system:has-text("${fan} joined")`);

  // The viewer chats and sends a gift; the broadcaster sees both.
  await send(v.page, 'love this stream');
  await entries(h.page, 'love this stream').waitFor();
  await v.page.click('button.gift[data-gift="rose"]');
  await h.page.waitForSelector(`#messages li.gift:has-text("${fan}"):has-text("sent 1 × rose")`);

  // The broadcaster pins the viewer's message, then an announcement, then unpins.
  await entries(h.page, 'love this stream').locator('button.pin-msg').click();
  await v.page.waitForSelector('#pin:not([hidden]) .pin-text:text-is("love this stream")');
  await h.page.fill('#pin-text input', 'Giveaway at 9!');
  await h.page.click('#pin-text button');
  await v.page.waitForSelector('#pin:not([hidden]) .pin-text:text-is("Giveaway at 9!")');
  await screenshot(v.page, 'live-viewer');
  await screenshot(h.page, 'live-broadcaster');
  await h.page.click('#unpin');
  await v.page.waitForSelector('#pin', { state: 'hidden' });

  // The broadcaster deletes a viewer's message: on both pages a tombstone takes its place.
  await send(v.page, 'something rude');
  const rude = entries(h.page, 'something rude');
  await rude.waitFor();
  const rudeSeq = await rude.getAttribute('data-seq');
  await rude.locator('button.delete-msg').click();
  const tombstone = `#messages li.deleted[data-seq="${rudeSeq}"] .tombstone`;
  await v.page.waitForSelector(`${tombstone}:text-is("message deleted by ${host}")`);
  await h.page.waitForSelector(tombstone);
  for (const page of [v.page, h.page]) expect(await entries(page, 'something rude').count()).toBe(0);
  await screenshot(v.page, 'live-viewer-tombstone');

  // A timeout from the message's button: the viewer is told until when; the broadcaster lifts it.
  await entries(h.page, 'love this stream').locator('button.timeout-user').click();
  await v.page.waitForSelector(`#messages li.sanction:has-text("you were timed out until"):has-text("by ${host}")`);
  await h.page.fill('#unban-user input', fan);
  await h.page.click('#unban-user button');
  await v.page.waitForSelector('#messages li.sanction:text-is("you may write again")');

  // A viewer may not pin (the server refuses; the client shows no such control either).
  // Made a moderator, the same user watching again gets the moderator's controls.
  await h.page.fill('#grant-moderator input', fan);
  await h.page.click('#grant-moderator button');
  await h.page.waitForSelector(`#notice:has-text("${fan} is a moderator now")`);
  await v.page.click('#back');
  await h.page.waitForSelector(`#messages li.system:has-text("${fan} left")`);
  await v.page.fill('#watch-live input', streamId);
  await v.page.click('#watch-live button');
  await v.page.waitForSelector('#app[data-view="broadcaster"] #broadcaster-panel:has-text("Moderator")');
  expect(await v.page.locator('#grant-moderator').count()).toBe(0);
  await screenshot(v.page, 'live-moderator');

  // The broadcaster bans the moderator: out of the room, and the composer closes.
  await entries(h.page, 'love this stream').locator('button.ban-user').click();
  await v.page.waitForSelector(`#messages li.sanction:text-is("you were banned by ${host}")`);
  await v.page.waitForSelector('#text:disabled');
  await h.page.waitForSelector(`#messages li.sanction:text-is("${fan} was banned by ${host}")`);
  await screenshot(v.page, 'live-banned');
});

test('a message sent while the network is cut is delivered exactly once after it comes back', async () => {
  const [alice, bob] = [system.user('oa'), system.user('ob')];
  // Alice reaches the gateway through a proxy the test can cut.
  const proxy = await startTcpProxy(system.gateways[0]!.port);
  try {
    const a = await login(alice, `http://127.0.0.1:${proxy.port}`);
    const b = await login(bob);
    const roomId = await openPrivate(a.page, bob);
    await openPrivate(b.page, alice);
    await send(a.page, 'before the cut');
    await entries(b.page, 'before the cut').waitFor();

    // Offline emulation fails new requests and sockets but leaves open WebSockets alone in
    // Chromium (playwright#4910), so the proxy also drops the page's connections, as an outage does.
    await a.context.setOffline(true);
    proxy.set('cut');
    await a.page.waitForSelector('#status[data-state="reconnecting"]');
    await send(a.page, 'sent while offline');
    await entries(a.page, 'sent while offline').and(a.page.locator('li.pending')).waitFor();
    // Held in the outbox while the network is down: Bob has nothing, however long it lasts.
    await a.page.waitForTimeout(2000);
    expect(await entries(b.page, 'sent while offline').count()).toBe(0);
    await screenshot(a.page, 'offline-pending');

    proxy.set('forward');
    await a.context.setOffline(false);
    await a.page.waitForSelector('#status[data-state="connected"]');
    await entries(b.page, 'sent while offline').waitFor();
    await entries(a.page, 'sent while offline').locator('.tick.read').waitFor();
    // Once on each screen and once in the room's stored history.
    expect(await entries(b.page, 'sent while offline').count()).toBe(1);
    expect(await entries(a.page, 'sent while offline').count()).toBe(1);
    const history = await system.api('GET', `/api/v1/conversations/${roomId}/messages`);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['before the cut', 'sent while offline']);
    await screenshot(a.page, 'offline-delivered');
  } finally {
    await proxy.stop();
  }
});
