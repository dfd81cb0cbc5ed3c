// The proto3 JSON mapping of the SDK's frames, driven by the table gen.js writes from chat.proto
// (the generated classes only encode and decode binary, which keeps the browser build small).
// Out: lowerCamel names, enum names, 64-bit integers as strings. In: either field name form,
// enum names or numbers, 64-bit integers as strings or numbers; messages become class instances
// as the binary decoder makes them (oneof getters such as `frame.body`, field defaults).
import './long-config';
import { fields } from '../generated/chat-json';
import { lomi } from '../generated/chat';

type Json = Record<string, unknown>;
type Types = Record<string, (new (properties?: Json) => object) | Record<string | number, string | number>>;
const types = lomi.chat.v1 as unknown as Types;

/** A message (plain object or instance) of type `type` as a JSON object. */
export function toJson(message: object, type: string): Json {
  const refs = fields[type] ?? {};
  const out: Json = {};
  for (const [key, value] of Object.entries(message)) {
    if (value == null) continue;
    const ref = refs[key];
    out[key] = Array.isArray(value) ? value.map((v) => toJsonValue(v, ref)) : toJsonValue(value, ref);
  }
  return out;
}

function toJsonValue(value: unknown, ref: string | 1 | undefined): unknown {
  if (ref === undefined) return value;
  if (ref === 1) return String(value);
  const type = types[ref]!;
  return typeof type === 'function' ? toJson(value as object, ref) : (type[value as number] ?? value);
}

/** A JSON object as an instance of message `type`. */
export function fromJson<T>(json: Json, type: string): T {
  const refs = fields[type] ?? {};
  const properties: Json = {};
  for (const [name, value] of Object.entries(json)) {
    if (value == null) continue;
    // The proto field name (request_id) is the JSON name (requestId) by protobufjs's rule.
    const key = name.includes('_') ? name[0] + name.slice(1).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : name;
    const ref = refs[key];
    properties[key] = Array.isArray(value) ? value.map((v) => fromJsonValue(v, ref)) : fromJsonValue(value, ref);
  }
  const Message = types[type] as new (properties?: Json) => T;
  return new Message(properties);
}

function fromJsonValue(value: unknown, ref: string | 1 | undefined): unknown {
  if (ref === undefined) return value;
  if (ref === 1) return Number(value);
  const type = types[ref]!;
  // An enum name this SDK does not know is left out (the field reads as its default).
  return typeof type === 'function' ? fromJson(value as Json, ref) : typeof value === 'string' ? type[value] : value;
}
