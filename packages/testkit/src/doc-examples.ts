// The example blocks of docs/protocol.md: a marker line naming the example and the frame it shows,
// then a ```json fence holding one frame in the JSON encoding. The generator
// (test/support/protocol-doc-cli.ts) rewrites the fences from a real run;
// test/e2e/protocol-doc.test.ts decodes each as its marker claims.
//
//   <!-- example send-text: ClientFrame.send -->
//   ```json
//   {"requestId": 3, "send": {…}}
//   ```
import { chat, decodeClientFrame, decodeServerFrame, Encoding, toJsonOptions } from '@lomi/protocol';

const BLOCK = /^<!-- example ([a-z0-9-]+): (ClientFrame|ServerFrame)\.(\w+) -->\n```json\n([\s\S]*?)\n?```$/gm;

export interface ExampleBlock {
  /** The example's name, unique in the document. */
  id: string;
  /** The frame it claims to be: which message, and which member of its oneof (JSON name). */
  message: 'ClientFrame' | 'ServerFrame';
  member: string;
  /** The fence's content. */
  json: string;
}

/** A frame as it went over the wire in the JSON encoding. */
export interface CapturedFrame {
  message: ExampleBlock['message'];
  text: string;
}

export class DocExamplesError extends Error {
  override name = 'DocExamplesError';
}

export function exampleBlocks(markdown: string): ExampleBlock[] {
  const blocks = [...markdown.matchAll(BLOCK)].map((m) => ({ id: m[1]!, message: m[2] as ExampleBlock['message'], member: m[3]!, json: m[4]! }));
  const seen = new Set<string>();
  for (const { id } of blocks) {
    if (seen.has(id)) throw new DocExamplesError(`example "${id}" appears twice`);
    seen.add(id);
  }
  return blocks;
}

/**
 * Decodes `json` as a `message` with the server's own JSON decoder: which oneof member it
 * carries, and the frame written back in the canonical mapping (equal to the parsed `json` when
 * nothing in it was unknown or misspelled, which the decoder would silently drop).
 */
export function decodeExample(message: ExampleBlock['message'], json: string): { member: string | undefined; canonical: unknown } {
  if (message === 'ClientFrame') {
    const frame = decodeClientFrame(json, Encoding.JSON);
    return { member: frame.command, canonical: chat.ClientFrame.toObject(frame, toJsonOptions) };
  }
  const frame = decodeServerFrame(json, Encoding.JSON);
  return { member: frame.body, canonical: chat.ServerFrame.toObject(frame, toJsonOptions) };
}

/**
 * `markdown` with each example's fence holding the frame captured for it (pretty-printed).
 * Every example needs a capture and every capture an example, so that the document shows all
 * that the run did and nothing it did not.
 */
export function withExamples(markdown: string, captured: ReadonlyMap<string, CapturedFrame>): string {
  const blocks = exampleBlocks(markdown);
  const ids = new Set(blocks.map((b) => b.id));
  const missing = [...ids].filter((id) => !captured.has(id));
  const unused = [...captured.keys()].filter((id) => !ids.has(id));
  if (missing.length || unused.length) {
    throw new DocExamplesError(
      [missing.length ? `examples without a capture: ${missing.join(', ')}` : '', unused.length ? `captures without an example block: ${unused.join(', ')}` : '']
        .filter(Boolean)
        .join('; '),
    );
  }
  const wrong = blocks.flatMap((b) => {
    const frame = captured.get(b.id)!;
    const got = `${frame.message}.${decodeExample(frame.message, frame.text).member ?? '(nothing)'}`;
    return got === `${b.message}.${b.member}` ? [] : [`"${b.id}" is marked ${b.message}.${b.member} but the run produced ${got}: ${frame.text}`];
  });
  if (wrong.length) throw new DocExamplesError(wrong.join('\n'));
  return markdown.replace(BLOCK, (_all, id: string, message: string, member: string) =>
    [`<!-- example ${id}: ${message}.${member} -->`, '```json', formatJson(JSON.parse(captured.get(id)!.text)), '```'].join('\n'),
  );
}

/** JSON indented by two spaces, except that an object or array fitting in `width` stays on one line. */
function formatJson(value: unknown, indent = '', width = 100): string {
  const flat = inlineJson(value);
  if (value === null || typeof value !== 'object' || indent.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((item) => inner + formatJson(item, inner, width))
    : Object.entries(value).map(([key, item]) => {
        const head = `${inner}${JSON.stringify(key)}: `;
        // The key takes part of the line: what follows it fits in the rest.
        return head + formatJson(item, inner, width - (head.length - inner.length));
      });
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join(',\n')}\n${indent}${close}`;
}

/** JSON on one line, spaced for reading: {"kind": "ROOM_KIND_LIVE", "id": "abc"}. */
function inlineJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${inlineJson(item)}`)
    .join(', ')}}`;
}
