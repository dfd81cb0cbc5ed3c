// Letters that look Latin but that NFKD leaves alone. Picked by hand from Unicode's confusables
// table (UTS #39, https://www.unicode.org/Public/security/latest/confusables.txt): the Cyrillic and
// Greek letters whose prototype there is a Latin letter, Latin letters without a decomposition, and
// the small capitals. Kept small on purpose: every entry also changes how real Cyrillic and Greek
// text reads, and both the terms and the messages go through it, so a Russian term still matches.
// A capital is listed only where it looks like another letter than its small form (Greek Η is H, η is n).
const TABLE: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ү: 'y',
  // Greek
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u',
  χ: 'x', ω: 'w', ϲ: 'c', Η: 'h', Μ: 'm', Ν: 'n', Υ: 'y', Ζ: 'z',
  // Latin without a decomposition
  ø: 'o', đ: 'd', ħ: 'h', ł: 'l', ı: 'i', ŧ: 't', ĸ: 'k', ɑ: 'a', ɡ: 'g', ɩ: 'i', ß: 'ss', æ: 'ae', œ: 'oe',
  // Small capitals
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
};

/** Code point → the Latin letter(s) it is read as. */
export const CONFUSABLES: ReadonlyMap<number, string> = new Map(
  Object.entries(TABLE).map(([from, to]) => [from.codePointAt(0)!, to]),
);
