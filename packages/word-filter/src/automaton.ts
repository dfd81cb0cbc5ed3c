// The compiled form of a block list: a trie of the normalised terms (the goto function of
// Aho–Corasick) walked from word starts only. Aho–Corasick's failure links are not needed because
// a term may begin only where a word begins (or, for a '*term', where a run of letters begins), so
// each walk is independent and dies within a letter or two: a message costs about one root lookup
// per word, whatever the size of the list.
//
// The walk is a small NFA rather than a straight descent, because a unit may have two readings
// ("1" is i or l), a repeated letter is absorbed ("fuuuck" walks as "fuck", while "as" never
// reaches "ass"), and leet symbols at a word's edge may be passed over ("shit!").
import type { RawMatch } from './matches';
import { BREAK, END_OK, LEAD_SKIP, type NormalisedText, TRAIL_SKIP, WORD_START } from './normalise';

export class TrieBuilder {
  /** A node's children by symbol; none yet for a leaf, most of the nodes of a long list. */
  private readonly children: (Map<number, number> | undefined)[] = [undefined];
  private readonly edges: number[] = [BREAK];
  private readonly closed: number[] = [0];
  private readonly open: number[] = [0];
  private readonly terms: string[] = [];

  get empty(): boolean {
    return this.terms.length === 0;
  }

  /** `openEnd`: the term may end inside a word ('term*'). A term whose symbols are already in wins. */
  add(symbols: readonly number[], term: string, openEnd: boolean): void {
    let node = 0;
    for (const c of symbols) {
      const kids = (this.children[node] ??= new Map<number, number>());
      let next = kids.get(c);
      if (next === undefined) {
        next = this.edges.length;
        kids.set(c, next);
        this.children.push(undefined);
        this.edges.push(c);
        this.closed.push(0);
        this.open.push(0);
      }
      node = next;
    }
    const ends = openEnd ? this.open : this.closed;
    if (ends[node] === 0) {
      this.terms.push(term);
      ends[node] = this.terms.length;
    }
  }

  /** Numbers the nodes breadth-first, so that each node's children are consecutive and sorted. */
  build(): Trie {
    const count = this.edges.length;
    const order = new Int32Array(count);
    let ordered = 1;
    const firstChild = new Int32Array(count + 1);
    for (let k = 0; k < count; k++) {
      firstChild[k] = ordered;
      const kids = this.children[order[k]!];
      if (kids === undefined) continue;
      const symbols = kids.size === 1 ? kids.keys() : [...kids.keys()].sort((x, y) => x - y);
      for (const c of symbols) order[ordered++] = kids.get(c)!;
    }
    firstChild[count] = count;
    const pick = (from: number[]) => {
      const picked = new Int32Array(count);
      for (let k = 0; k < count; k++) picked[k] = from[order[k]!]!;
      return picked;
    };
    return new Trie(pick(this.edges), firstChild, pick(this.closed), pick(this.open), this.terms);
  }
}

export class Trie {
  /**
   * For a node with many children (the root, the first letters), where its row of children by ASCII
   * symbol starts in `dense`, or -1: those lookups, most of a walk's, become one load.
   */
  private readonly denseRow: Int32Array;
  private readonly dense: Int32Array;

  constructor(
    /** The symbol on the edge into each node; BREAK for the root, so a word may begin after it. */
    private readonly edge: Int32Array,
    /** Node k's children are nodes firstChild[k] .. firstChild[k + 1] - 1. */
    private readonly firstChild: Int32Array,
    /** Term number + 1 of a term that ends at this node at a word's end, or 0. */
    private readonly closed: Int32Array,
    /** Term number + 1 of a 'term*' that ends at this node, or 0. */
    private readonly open: Int32Array,
    private readonly terms: readonly string[],
  ) {
    const nodes = edge.length;
    this.denseRow = new Int32Array(nodes).fill(-1);
    let rows = 0;
    for (let node = 0; node < nodes; node++) {
      if (rows < DENSE_ROWS && firstChild[node + 1]! - firstChild[node]! >= DENSE_CHILDREN) this.denseRow[node] = 128 * rows++;
    }
    this.dense = new Int32Array(128 * rows).fill(-1);
    for (let node = 0; node < nodes; node++) {
      const row = this.denseRow[node]!;
      for (let child = firstChild[node]!; row >= 0 && child < firstChild[node + 1]!; child++) {
        if (edge[child]! < 128) this.dense[row + edge[child]!] = child;
      }
    }
  }

  /** Adds every match of this trie in `text` to `out`; `floating`: its terms are '*term' ones. */
  collect(text: NormalisedText, floating: boolean, out: RawMatch[]): void {
    const { cp, flags } = text;
    for (let i = 0; i < text.length; i++) {
      const f = flags[i]!;
      const c = cp[i]!;
      const begins = floating ? c !== BREAK && (f & TRAIL_SKIP) === 0 && ((f & WORD_START) !== 0 || c !== cp[i - 1]) : (f & WORD_START) !== 0;
      if (begins && this.mayMatchFrom(text, i)) this.walk(text, i, floating, out);
    }
  }

  /**
   * Whether a walk from unit `i` gets past its first two units. Most do not, and telling so costs
   * less than starting one: it is what keeps '*term' lists, tried at every letter, cheap.
   */
  private mayMatchFrom(text: NormalisedText, i: number): boolean {
    const c = text.cp[i]!;
    const a = text.alt[i]!;
    if (a !== 0 || (text.flags[i]! & LEAD_SKIP) !== 0) return true;
    const node = this.child(0, c);
    if (node < 0) return false;
    if (this.closed[node] !== 0 || this.open[node] !== 0 || i + 1 === text.length) return true;
    const next = text.cp[i + 1]!;
    // The second unit read another way, as a repeat, or passed over: leave it to the walk.
    if (text.alt[i + 1] !== 0 || next === c || (text.flags[i + 1]! & TRAIL_SKIP) !== 0) return true;
    return this.child(node, next) >= 0;
  }

  private child(node: number, c: number): number {
    const row = this.denseRow[node]!;
    if (row >= 0 && c < 128) return this.dense[row + c]!;
    let lo = this.firstChild[node]!;
    let hi = this.firstChild[node + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.edge[mid]!;
      if (e === c) return mid;
      if (e < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Runs the NFA from unit `s`; a thread is (node, first unit read, last unit read), -1 before any. */
  private walk(text: NormalisedText, s: number, floating: boolean, out: RawMatch[]): void {
    const { cp, alt, flags } = text;
    let current = threadsA;
    let next = threadsB;
    current[0] = 0;
    current[1] = -1;
    current[2] = -1;
    let live = 1;
    for (let i = s; i < text.length && live > 0; i++) {
      const c = cp[i]!;
      const a = alt[i]!;
      const f = flags[i]!;
      // The common step, one thread and a unit with one reading that repeats nothing: a plain descent.
      if (live === 1 && a === 0 && (f & (LEAD_SKIP | TRAIL_SKIP)) === 0 && (current[1]! < 0 || this.edge[current[0]!] !== c)) {
        const child = this.child(current[0]!, c);
        if (child < 0) return;
        current[0] = child;
        if (current[1]! < 0) current[1] = i;
        current[2] = i;
        if (this.closed[child] !== 0 || this.open[child] !== 0) this.report(text, child, current[1]!, i, floating, out);
        continue;
      }
      let n = 0;
      for (let k = 0; k < live * 3; k += 3) {
        const node = current[k]!;
        const first = current[k + 1]!;
        const last = current[k + 2]!;
        const e = this.edge[node]!;
        const from = first < 0 ? i : first;
        if (first >= 0 && last === i - 1 && c !== BREAK && (e === c || e === a)) n = push(next, n, node, first, i);
        let child = this.child(node, c);
        if (child >= 0) n = push(next, n, child, from, i);
        if (a !== 0 && (child = this.child(node, a)) >= 0) n = push(next, n, child, from, i);
        if (((f & LEAD_SKIP) !== 0 && e === BREAK) || ((f & TRAIL_SKIP) !== 0 && first >= 0)) n = push(next, n, node, first, last);
      }
      for (let k = 0; k < n * 3; k += 3) {
        const node = next[k]!;
        if (next[k + 2] === i && (this.closed[node] !== 0 || this.open[node] !== 0)) this.report(text, node, next[k + 1]!, i, floating, out);
      }
      const done = current;
      current = next;
      next = done;
      live = n;
    }
  }

  private report(text: NormalisedText, node: number, first: number, last: number, floating: boolean, out: RawMatch[]): void {
    const closed = this.closed[node]!;
    const open = this.open[node]!;
    // A wildcard side covers the rest of its word, so "*fuck*" masks all of "motherfuckers".
    const from = floating ? Math.min(first, text.coreFirstOf(first)) : first;
    if (closed !== 0 && (text.flags[last]! & END_OK) !== 0) out.push({ first: from, last, term: this.terms[closed - 1]! });
    if (open !== 0) out.push({ first: from, last: Math.max(last, text.coreLastOf(last)), term: this.terms[open - 1]! });
  }
}

/** Children from which a node gets a dense row: below it, a binary search takes three steps or fewer. */
const DENSE_CHILDREN = 8;
/** Rows at most (128 KB), so a list made to branch everywhere cannot make a room's filter large; breadth-first numbering gives them to the nodes nearest the root. */
const DENSE_ROWS = 256;

/**
 * Threads of the running walk. Shared by every trie: a walk runs start to end without yielding.
 * The cap only matters for made-up input (every unit with two readings and a repeat); real words
 * keep two or three threads alive.
 */
const MAX_THREADS = 64;
const threadsA = new Int32Array(MAX_THREADS * 3);
const threadsB = new Int32Array(MAX_THREADS * 3);

function push(threads: Int32Array, n: number, node: number, first: number, last: number): number {
  for (let k = 0; k < n * 3; k += 3) {
    if (threads[k] === node && threads[k + 1] === first && threads[k + 2] === last) return n;
  }
  if (n === MAX_THREADS) return n;
  threads[n * 3] = node;
  threads[n * 3 + 1] = first;
  threads[n * 3 + 2] = last;
  return n + 1;
}
