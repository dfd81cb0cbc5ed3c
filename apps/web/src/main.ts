// The demo web client's views, plain DOM: log in as a demo user, then a private chat (typing,
// read ticks) or a live room (viewer count, pinned banner, gifts, join/leave lines, and the
// broadcaster's pin and moderation controls: delete, time out, ban). Deleted messages show as
// tombstones everywhere. All talk to the server goes through chat.ts.
import { ChatSession, type ConnectionState, type OpenRoom, type SanctionShown, type ShownMessage, type ShownPin } from './chat';

const GIFTS = [
  { id: 'rose', label: '🌹 Rose' },
  { id: 'heart', label: '💖 Heart' },
  { id: 'rocket', label: '🚀 Rocket' },
];
/** A "typing" line without a fresh event disappears after this long (the typist may have gone). */
const TYPING_SHOWN_MS = 6000;
/** The "Timeout" button silences a user for this long. */
const TIMEOUT_S = 600;

type Child = Node | string | false | undefined;
/** An attribute's value: `true` sets it empty, `false` and undefined leave it out; `on…` listeners. */
type Attr = string | number | boolean | undefined | EventListener;

/** Creates an element with attributes (`on…` functions become listeners) and children. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== false) el.append(child);
  return el;
}

/** A one-line form: its input's trimmed value goes to `submit` (nothing happens when empty). */
function lineForm(id: string, placeholder: string, label: string, submit: (value: string, input: HTMLInputElement) => void): HTMLFormElement {
  const input = h('input', { name: 'value', placeholder, autocomplete: 'off' });
  return h(
    'form',
    {
      id,
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const value = input.value.trim();
        if (value) submit(value, input);
      },
    },
    input,
    h('button', { type: 'submit' }, label),
  );
}

const app = document.getElementById('app')!;
const statusEl = document.getElementById('status')!;
const noticeEl = document.getElementById('notice')!;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function notice(text: string): void {
  noticeEl.textContent = text;
  noticeEl.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (noticeEl.hidden = true), 5000);
}

function showState(state: ConnectionState): void {
  statusEl.dataset.state = state;
  statusEl.textContent = state;
}

function show(view: string, ...content: Node[]): void {
  app.dataset.view = view;
  app.replaceChildren(...content);
}

function loginView(): void {
  show(
    'login',
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Log in as a demo user'),
      h('p', {}, 'Any name will do: the development server hands out a token for it.'),
      lineForm('login', 'user id, e.g. alice', 'Log in', (userId) => {
        ChatSession.login(userId).then(
          (session) => {
            document.getElementById('me')!.textContent = `as ${userId}`;
            showState('connected');
            session.on('state', showState);
            session.on('notice', notice);
            homeView(session);
          },
          (err: Error) => notice(`log in failed: ${err.message}`),
        );
      }),
    ),
  );
}

function homeView(session: ChatSession): void {
  const enter = (opening: Promise<OpenRoom>): void => {
    opening.then(
      (open) => roomView(session, open),
      (err: Error) => notice(err.message),
    );
  };
  show(
    'home',
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Private chat'),
      lineForm('open-private', 'the other user id, e.g. bob', 'Open chat', (peerId) => enter(session.openConversation(peerId))),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Live'),
      h(
        'form',
        {
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            enter(session.startLiveStream().then((id) => session.join('live', id)));
          },
        },
        h('button', { id: 'start-live', type: 'submit' }, 'Start a live stream'),
      ),
      lineForm('watch-live', 'live stream id', 'Watch', (id) => enter(session.join('live', id))),
    ),
  );
}

function roomView(session: ChatSession, open: OpenRoom): void {
  const live = open.mode === 'live';
  const privileged = live && open.role !== 'viewer';
  const list = h('ul', { id: 'messages' });
  /** Shown messages: own ones by client_msg_id (they exist before their seq), the others by seq. */
  const items = new Map<string, HTMLLIElement>();
  /** Stored messages by seq, to turn one into a tombstone. */
  const bySeq = new Map<number, ShownMessage>();
  let otherReadSeq = open.otherReadSeq;
  let otherDeliveredSeq = open.otherDeliveredSeq;
  const keyOf = (m: ShownMessage) => (m.senderId === session.userId && m.clientMsgId ? `c:${m.clientMsgId}` : `s:${m.seq}`);

  function tick(m: ShownMessage): Child {
    if (live || m.senderId !== session.userId || m.failed) return undefined;
    if (m.seq === 0) return h('span', { class: 'tick' }, '🕓');
    if (m.seq <= otherReadSeq) return h('span', { class: 'tick read' }, '✓✓ seen');
    return h('span', { class: 'tick' }, m.seq <= otherDeliveredSeq ? '✓✓' : '✓');
  }

  function actions(m: ShownMessage): Child[] {
    if (m.seq === 0 || m.kind === 'system' || m.deletedBy) return [];
    const mine = m.senderId === session.userId;
    const button = (cls: string, label: string, run: () => void) => h('button', { class: `small secondary ${cls}`, onclick: run }, label);
    const buttons: Child[] = [];
    if (privileged) {
      buttons.push(button('pin-msg', 'Pin', () => void session.pinMessage(open.id, m.seq)));
      buttons.push(button('delete-msg', 'Delete', () => void session.deleteMessage(open.mode, open.id, m.seq)));
      if (!mine) {
        buttons.push(button('timeout-user', 'Timeout', () => void session.timeoutUser(open.id, m.senderId, TIMEOUT_S)));
        buttons.push(button('ban-user', 'Ban', () => void session.banUser(open.id, m.senderId)));
      }
    } else if (!live && mine) {
      buttons.push(button('delete-msg', 'Delete', () => void session.deleteMessage(open.mode, open.id, m.seq)));
    }
    if (!mine) {
      buttons.push(
        h(
          'button',
          {
            class: 'small secondary report-msg',
            onclick: () => void session.report(open.mode, open.id, m.seq, 'reported from the web client').then((ok) => ok && notice('reported')),
          },
          'Report',
        ),
      );
    }
    return buttons;
  }

  function render(m: ShownMessage): HTMLLIElement {
    const mine = m.senderId === session.userId;
    const classes = [m.kind, mine && 'mine', m.seq === 0 && !m.failed && 'pending', m.failed && 'failed'].filter(Boolean).join(' ');
    const attrs = { class: classes, 'data-seq': m.seq || undefined, 'data-client-msg-id': m.clientMsgId || undefined };
    if (m.kind === 'system') return h('li', attrs, m.text);
    if (m.deletedBy) {
      const by = m.deletedBy === m.senderId ? '' : ` by ${m.deletedBy === session.userId ? 'me' : m.deletedBy}`;
      return h(
        'li',
        { ...attrs, class: `${classes} deleted` },
        h('span', { class: 'from' }, mine ? 'me' : m.senderId),
        h('span', { class: 'tombstone' }, `message deleted${by}`),
      );
    }
    const body = m.kind === 'gift' ? `sent ${m.gift?.count ?? 1} × ${m.gift?.id ?? 'gift'}` : m.text;
    return h(
      'li',
      attrs,
      h('span', { class: 'from' }, mine ? 'me' : m.senderId),
      h('span', { class: 'text' }, body),
      m.failed && ` (not sent: ${m.failed})`,
      tick(m),
      ...actions(m),
    );
  }

  /** Shows a message in seq order (still unsent ones last), replacing its earlier version. */
  function put(m: ShownMessage): void {
    if (m.seq > 0) bySeq.set(m.seq, m);
    const key = keyOf(m);
    const el = render(m);
    const old = items.get(key);
    items.set(key, el);
    if (old && (old.dataset.seq || m.seq === 0)) return old.replaceWith(el);
    old?.remove();
    const after = m.seq === 0 ? undefined : [...list.children].find((li) => !(li as HTMLElement).dataset.seq || Number((li as HTMLElement).dataset.seq) > m.seq);
    list.insertBefore(el, after ?? null);
    list.scrollTop = list.scrollHeight;
  }

  const rerenderTicks = () => {
    for (const [key, el] of items) {
      const seq = Number(el.dataset.seq ?? 0);
      if (!key.startsWith('c:') || seq === 0) continue;
      el.querySelector('.tick')?.replaceWith(tick({ seq, senderId: session.userId } as ShownMessage) as Node);
    }
  };

  const pinBanner = h('div', { id: 'pin', hidden: true });
  function showPin(pin: ShownPin | undefined): void {
    pinBanner.hidden = !pin;
    pinBanner.replaceChildren(...(pin ? [h('strong', {}, '📌 '), h('span', { class: 'pin-text' }, pin.text), h('small', {}, `  — pinned by ${pin.pinnedBy}`)] : []));
  }
  showPin(open.pin);

  const viewers = h('span', { id: 'viewers' }, `👁 ${open.viewerCount} watching`);
  const typingLine = h('div', { id: 'typing' });
  let typingTimer: ReturnType<typeof setTimeout> | undefined;

  const composerInput = h('input', { id: 'text', placeholder: 'Say something…', autocomplete: 'off' });
  composerInput.addEventListener('input', () => {
    if (!live) session.typing(open.id, composerInput.value.length > 0);
  });
  const composer = h(
    'form',
    {
      id: 'composer',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const text = composerInput.value.trim();
        if (!text) return;
        composerInput.value = '';
        put(session.send(open.mode, open.id, text));
      },
    },
    composerInput,
    h('button', { type: 'submit' }, 'Send'),
  );
  const gifts = h(
    'div',
    { class: 'gifts' },
    ...GIFTS.map((g) => h('button', { class: 'secondary gift', 'data-gift': g.id, onclick: () => put(session.sendGift(open.mode, open.id, g.id)) }, g.label)),
  );

  const panel =
    privileged &&
    h(
      'div',
      { class: 'panel', id: 'broadcaster-panel' },
      h('h2', {}, open.role === 'moderator' ? 'Moderator' : 'Broadcaster'),
      lineForm('pin-text', 'announcement to pin', 'Pin', (text, input) => void session.pinText(open.id, text).then((ok) => ok && (input.value = ''))),
      h('button', { id: 'unpin', class: 'secondary', onclick: () => void session.unpin(open.id) }, 'Unpin'),
      open.role !== 'moderator' &&
        lineForm(
          'grant-moderator',
          'user id to make moderator',
          'Make moderator',
          (userId, input) => void session.grantModerator(open.id, userId).then((ok) => ok && ((input.value = ''), notice(`${userId} is a moderator now`))),
        ),
      lineForm(
        'unban-user',
        'user id to let write again',
        'Lift timeout or ban',
        (userId, input) => void session.unbanUser(open.id, userId).then((ok) => ok && (input.value = '')),
      ),
    );

  const title = live ? (open.role === 'broadcaster' ? 'Your live stream' : 'Live stream') : 'Private chat';
  show(
    live ? (privileged ? 'broadcaster' : 'live') : 'private',
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'room-head' },
        h('button', { class: 'secondary small', id: 'back', onclick: () => void session.leave(open.mode, open.id).then(() => homeView(session)) }, '← Back'),
        h('h2', {}, title),
        h('span', { class: 'id' }, 'id ', h('span', { id: 'room-id' }, open.id)),
        live && viewers,
      ),
      live && pinBanner,
      list,
      !live && typingLine,
      composer,
      gifts,
      panel || undefined,
    ),
  );

  const here = (roomId: string) => roomId === open.id && app.contains(list);
  for (const m of open.messages) put(m);
  session.on('message', (m) => {
    if (!here(m.roomId)) return;
    put(m);
    if (!live && m.senderId !== session.userId && m.seq > 0) {
      session.markRead(open.id, m.seq);
      typingLine.textContent = '';
    }
  });
  session.on('typing', (roomId, userId, typing) => {
    if (!here(roomId)) return;
    typingLine.textContent = typing ? `${userId} is typing…` : '';
    clearTimeout(typingTimer);
    if (typing) typingTimer = setTimeout(() => (typingLine.textContent = ''), TYPING_SHOWN_MS);
  });
  session.on('receipt', (roomId, userId, readSeq, deliveredSeq) => {
    if (!here(roomId) || userId === session.userId) return;
    otherReadSeq = Math.max(otherReadSeq, readSeq);
    otherDeliveredSeq = Math.max(otherDeliveredSeq, deliveredSeq);
    rerenderTicks();
  });
  session.on('viewers', (roomId, count) => here(roomId) && (viewers.textContent = `👁 ${count} watching`));
  session.on('pin', (roomId, pin) => here(roomId) && showPin(pin));
  session.on('deleted', (roomId, seqs, deletedBy) => {
    if (!here(roomId)) return;
    for (const seq of seqs) {
      const m = bySeq.get(seq);
      if (m) put({ ...m, text: '', gift: undefined, deletedBy });
    }
  });
  session.on('sanctioned', (roomId, userId, what, byUserId, untilMs) => {
    if (!here(roomId)) return;
    const me = userId === session.userId;
    list.append(h('li', { class: 'system sanction' }, sanctionLine(me ? 'you' : userId, what, byUserId, untilMs)));
    list.scrollTop = list.scrollHeight;
    if (me && what !== 'lifted') notice(sanctionLine('you', what, byUserId, untilMs));
    if (me) composerInput.disabled = what === 'banned';
  });
  session.on('roomClosed', (roomId, reason) => {
    if (!here(roomId)) return;
    notice(`the stream ended${reason ? `: ${reason}` : ''}`);
    composerInput.disabled = true;
  });
  // What the other member sent before we opened the chat is read now.
  const lastOther = [...open.messages].reverse().find((m) => m.senderId !== session.userId && m.kind !== 'system');
  if (!live && lastOther) session.markRead(open.id, lastOther.seq);
}

function sanctionLine(who: string, what: SanctionShown, byUserId: string, untilMs: number): string {
  if (what === 'lifted') return `${who} may write again`;
  const until = what === 'timed out' && untilMs > 0 ? ` until ${new Date(untilMs).toLocaleTimeString()}` : '';
  return `${who} ${who === 'you' ? 'were' : 'was'} ${what}${until} by ${byUserId}`;
}

loginView();
