// docs/protocol.md is what the iOS and Android teams write their clients from. It must describe
// every message, field and enum value of chat.proto — each field in the table of its message,
// with its type, each enum value in the table of its enum — and each JSON example must still
// decode, as the server decodes it, to the frame its marker claims (examples: pnpm docs:protocol).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decodeExample, exampleBlocks } from '@lomi/testkit';

const doc = readFileSync(path.join(__dirname, '../../docs/protocol.md'), 'utf8');
// The client protocol only: the internal bus (proto/lomi/internal) is no app team's business.
const chat = new protobuf.Root().loadSync(path.join(__dirname, '../../proto/lomi/chat/v1/chat.proto'), { keepCase: true }).lookup('lomi.chat.v1') as protobuf.Namespace;
const messages = chat.nestedArray.filter((t): t is protobuf.Type => t instanceof protobuf.Type);
const enums = chat.nestedArray.filter((t): t is protobuf.Enum => t instanceof protobuf.Enum);

interface Row {
  name: string;
  type: string;
  meaning: string;
}

/** The document's tables whose header's first cell is one backticked name, by that name: their rows' cells. */
function namedTables(markdown: string): Map<string, Row[]> {
  const tables = new Map<string, Row[]>();
  const lines = markdown.split('\n');
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const code = (cell: string | undefined) => /^`([^`]+)`$/.exec(cell ?? '')?.[1];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
    const name = code(cells(lines[i]!)[0]);
    const rows: Row[] = [];
    for (let j = i + 2; lines[j]?.startsWith('|'); j++) {
      const [first, second, ...rest] = cells(lines[j]!);
      rows.push({ name: code(first) ?? first!, type: code(second) ?? second!, meaning: rest.join(' | ') });
    }
    if (!name) continue;
    if (tables.has(name)) throw new Error(`two tables for ${name}`);
    tables.set(name, rows);
  }
  return tables;
}

const tables = namedTables(doc);

/** A field's type as the tables write it: `uint64`, `optional uint32`, `repeated ChatMessage`. */
function typeOf(field: protobuf.Field): string {
  return `${field.repeated ? 'repeated ' : ''}${field.options?.proto3_optional ? 'optional ' : ''}${field.type}`;
}

describe('every message, field and enum value of chat.proto is in docs/protocol.md', () => {
  test.each(messages.filter((m) => m.fieldsArray.length > 0).map((m) => [m.name, m] as const))(
    '%s: a table with each field, its type, and its oneof',
    (name, message) => {
      const rows = tables.get(name);
      expect(rows).toBeDefined();
      expect(rows!.map((r) => r.name).sort()).toEqual(message.fieldsArray.map((f) => f.name).sort());
      for (const field of message.fieldsArray) {
        const row = rows!.find((r) => r.name === field.name)!;
        expect({ field: field.name, type: row.type }).toEqual({ field: field.name, type: typeOf(field) });
        // proto3 `optional` makes a synthetic oneof named "_<field>": not a choice a reader makes.
        const oneof = field.partOf && !field.partOf.name.startsWith('_') ? field.partOf.name : undefined;
        if (oneof) expect({ field: field.name, meaning: row.meaning }).toEqual({ field: field.name, meaning: expect.stringMatching(new RegExp(`^one of \`${oneof}\``)) });
      }
    },
  );

  test.each(messages.filter((m) => m.fieldsArray.length === 0).map((m) => [m.name]))('%s (no fields) is named', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });

  test.each(enums.map((e) => [e.name, e] as const))('%s: a table with each value', (name, enumType) => {
    expect(tables.get(name)?.map((r) => r.name)).toEqual(Object.keys(enumType.values));
  });

  test('every table named after a message or enum names one of chat.proto', () => {
    const known = new Set([...messages, ...enums].map((t) => t.name));
    const identifiers = [...tables.keys()].filter((name) => /^[A-Z][A-Za-z0-9]*$/.test(name));
    expect(identifiers.filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('the JSON examples of docs/protocol.md', () => {
  const blocks = exampleBlocks(doc);

  test.each(blocks.map((b) => [b.id, b] as const))('%s decodes as the frame its marker names, nothing in it unknown', (_id, block) => {
    const parsed: unknown = JSON.parse(block.json);
    const { member, canonical } = decodeExample(block.message, block.json);
    expect(`${block.message}.${member}`).toBe(`${block.message}.${block.member}`);
    // The decoder drops what it does not know (a renamed field, a misspelt one): written back
    // in the server's mapping, the frame must be the example itself.
    expect(canonical).toEqual(parsed);
  });

  test('every command, reply and push has an example', () => {
    const shown = new Set(blocks.map((b) => `${b.message}.${b.member}`));
    const members = (type: string, oneof: string) =>
      chat.lookupType(type).oneofs[oneof]!.fieldsArray.map((f) => `${type}.${f.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}`);
    const missing = [...members('ClientFrame', 'command'), ...members('ServerFrame', 'body')].filter((m) => !shown.has(m));
    expect(missing).toEqual([]);
  });
});
