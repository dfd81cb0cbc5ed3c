// History and outbox entries come back from Redis as [id, fields]: the seq is in the id.
import { entryId, logEntryOf, MESSAGE_FIELD } from './stream-entries';

describe('stream entries', () => {
  it('names an entry by its seq and reads the seq back from the id', () => {
    const bytes = Buffer.from([1, 2, 3]);
    expect(logEntryOf([Buffer.from(entryId(42)), [Buffer.from(MESSAGE_FIELD), bytes]])).toEqual({ seq: 42, bytes });
  });

  it('finds the message among other fields, by field name only', () => {
    const bytes = Buffer.from('message');
    const fields = [Buffer.from('x'), Buffer.from(MESSAGE_FIELD), Buffer.from(MESSAGE_FIELD), bytes];
    expect(logEntryOf([Buffer.from('7-0'), fields]).bytes).toBe(bytes);
  });

  it('reads an entry without the field as one with no message', () => {
    expect(logEntryOf([Buffer.from('9-0'), [Buffer.from('x'), Buffer.from('y')]])).toEqual({ seq: 9, bytes: undefined });
  });
});
