// What a digit or symbol stands for when it is written inside a word ("sh1t", "a$$"). Where people
// use one for two letters, both readings are kept (1 and | for i or l, 6 for g or b): the matcher
// tries both, so no single guess can be evaded.
const TABLE: Record<string, string> = {
  '0': 'o',
  '1': 'il',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '6': 'gb',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'il',
  '+': 't',
  '€': 'e',
  '¢': 'c',
};

/** Code point → [reading, second reading or 0]. */
export const LEET: ReadonlyMap<number, readonly [number, number]> = new Map(
  Object.entries(TABLE).map(([from, to]) => [from.codePointAt(0)!, [to.charCodeAt(0), to.length > 1 ? to.charCodeAt(1) : 0] as const]),
);
