// A reset leaves a hole of seqs that name no message: pages, gap fills and recoveries count and
// step over seqs with SeqSpace, so a hole is neither a page of nothing nor a gap to fill.
import { SeqSpace } from './holes';

const reset = (lastSeq: number, startSeq: number) => ({ lastSeq, startSeq });

type Method = 'count' | 'forward' | 'backward' | 'atOrBelow';
/** A call and what it must return: [method, its arguments, the answer]. */
type Call = [Method, number[], number];

/** Each call's answer, shown beside the call so that a failure names it. */
function answers(space: SeqSpace, calls: Call[]): Call[] {
  return calls.map(([method, args]) => {
    const call: (...a: number[]) => number = space[method].bind(space);
    return [method, args, call(...args)];
  });
}

describe('SeqSpace without resets', () => {
  const space = new SeqSpace([]);

  it('counts and steps over consecutive seqs', () => {
    const calls: Call[] = [
      ['count', [0, 10], 10],
      ['count', [10, 10], 0],
      ['count', [10, 5], 0],
      ['forward', [0, 5, 10], 5],
      ['backward', [10, 3, 0], 7],
    ];
    expect(answers(space, calls)).toEqual(calls);
  });

  it('stops at the cap going forward and at the floor going back', () => {
    const calls: Call[] = [
      ['forward', [0, 50, 10], 10],
      ['forward', [12, 5, 10], 12],
      ['backward', [10, 50, 4], 4],
      ['backward', [3, 5, 4], 3],
    ];
    expect(answers(space, calls)).toEqual(calls);
  });
});

describe('SeqSpace across a reset from seq 10 to 100', () => {
  const space = new SeqSpace([reset(10, 100)]);

  it('knows the hole (10, 100] and the seqs on either side', () => {
    expect([10, 11, 100, 101].map((s) => space.inHole(s))).toEqual([false, true, true, false]);
    expect([50, 100, 101].map((s) => space.atOrBelow(s))).toEqual([10, 10, 101]);
  });

  it('counts only the seqs that may name a message', () => {
    const calls: Call[] = [
      ['count', [0, 105], 15],
      ['count', [20, 105], 5],
      ['count', [20, 90], 0],
    ];
    expect(answers(space, calls)).toEqual(calls);
  });

  it('steps forward over the hole, so a window of n holds n seqs', () => {
    const calls: Call[] = [
      ['forward', [5, 10, 200], 105],
      ['forward', [50, 3, 200], 103],
      ['forward', [5, 10, 103], 103],
      ['forward', [5, 3, 200], 8],
    ];
    expect(answers(space, calls)).toEqual(calls);
    expect(space.count(5, space.forward(5, 10, 200))).toBe(10);
  });

  it('steps backward over the hole, and no lower than the floor', () => {
    const calls: Call[] = [
      ['backward', [105, 10, 0], 5],
      ['backward', [105, 3, 0], 102],
      ['backward', [105, 10, 50], 50],
      ['backward', [105, 7, 0], 8],
    ];
    expect(answers(space, calls)).toEqual(calls);
  });
});

describe('SeqSpace with several resets', () => {
  it('merges overlapping and touching holes, in any order, and ignores empty ones', () => {
    const space = new SeqSpace([reset(200, 300), reset(50, 120), reset(10, 100), reset(120, 150), reset(400, 400)]);
    const calls: Call[] = [
      ['count', [0, 310], 10 + 50 + 10],
      ['atOrBelow', [149], 10],
      ['forward', [0, 15, 1000], 155],
      ['backward', [305, 10, 0], 195],
    ];
    expect(answers(space, calls)).toEqual(calls);
    expect(space.inHole(400)).toBe(false);
  });

  it('reads a reset with missing fields as no hole', () => {
    expect(new SeqSpace([{}]).count(0, 10)).toBe(10);
  });
});
