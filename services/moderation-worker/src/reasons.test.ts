// Reasons for reports and bans: trimmed, storable and bounded in characters, not UTF-16 units.
import { ErrorCode } from '@lomi/protocol';
import { reasonText } from './reasons';

describe('reasonText', () => {
  it('trims the reason and keeps line breaks inside it, normalised', () => {
    expect(reasonText('reason', '  spam\r\nagain \n', 20)).toBe('spam\nagain');
  });

  it('counts characters, so an emoji is one', () => {
    expect(reasonText('reason', '😀'.repeat(5), 5)).toBe('😀'.repeat(5));
    expect(() => reasonText('reason', '😀'.repeat(6), 5)).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: 'reason is longer than 5 characters' }),
    );
  });

  it('refuses text Postgres cannot store, naming the field', () => {
    expect(() => reasonText('ban_reason', 'a\u0000b', 50)).toThrow(expect.objectContaining({ message: 'ban_reason contains a control character (U+0000)' }));
  });
});
