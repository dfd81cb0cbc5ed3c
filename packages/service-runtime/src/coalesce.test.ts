import { coalescing, endOfTurn } from './coalesce';

test('calls of one key in one turn share a run; other keys get their own', async () => {
  const runs: string[] = [];
  const read = coalescing(
    (room: string) => room,
    async (room: string) => {
      runs.push(room);
      return `${room}:${runs.length}`;
    },
  );
  const results = await Promise.all([read('a'), read('a'), read('b'), read('a')]);
  expect(results).toEqual(['a:1', 'a:1', 'b:2', 'a:1']);
  expect(runs).toEqual(['a', 'b']);
});

test('a call after its run started gets the next run', async () => {
  let runs = 0;
  const read = coalescing(
    () => 'k',
    async () => ++runs,
  );
  const first = read('k');
  await endOfTurn();
  const second = read('k');
  expect(await first).toBe(1);
  expect(await second).toBe(2);
});

test('a run never starts before its callers called: it waits for the end of the turn', async () => {
  const order: string[] = [];
  const read = coalescing(
    () => 'k',
    async () => {
      order.push('run');
    },
  );
  const done = read('k');
  order.push('caller');
  await done;
  expect(order).toEqual(['caller', 'run']);
});

test('a failed run fails every caller that shared it', async () => {
  const read = coalescing(
    () => 'k',
    async () => {
      throw new Error('redis down');
    },
  );
  await expect(Promise.all([read('k'), read('k')])).rejects.toThrow('redis down');
});

test('every caller of one turn gets the same end-of-turn promise', () => {
  expect(endOfTurn()).toBe(endOfTurn());
});
