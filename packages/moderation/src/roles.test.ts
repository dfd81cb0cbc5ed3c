// Who may act on whom in a room: the rules every moderation command asks, and the refusals that
// say which rule refused.
import { ErrorCode, Role } from '@lomi/protocol';
import { assertMayActOn, assertMayManageModerators, assertMayModerate, mayActOn, mayManageModerators, mayModerate, roleName } from './roles';

const { ROLE_BROADCASTER: B, ROLE_MODERATOR: M, ROLE_STAFF: S, ROLE_MEMBER: MEMBER, ROLE_VIEWER: V, ROLE_UNSPECIFIED: NONE } = Role;
const ALL = [B, M, S, MEMBER, V, NONE];

describe('roles', () => {
  it('lets the broadcaster, moderators and staff moderate, nobody else', () => {
    expect(ALL.filter(mayModerate)).toEqual([B, M, S]);
  });

  it('lets only the broadcaster and staff manage moderators', () => {
    expect(ALL.filter(mayManageModerators)).toEqual([B, S]);
  });

  it.each([
    [B, [MEMBER, V, NONE, M]],
    [S, [MEMBER, V, NONE, M]],
    [M, [MEMBER, V, NONE]],
    [MEMBER, []],
    [V, []],
    [NONE, []],
  ])('lets %s act on exactly its targets', (actor, targets) => {
    expect(ALL.filter((target) => mayActOn(actor, target)).sort()).toEqual([...targets].sort());
  });

  it('names each role in refusals', () => {
    expect(ALL.map(roleName)).toEqual(['the broadcaster', 'a moderator', 'staff', 'a member', 'a viewer', 'someone outside the room']);
  });
});

describe('role refusals', () => {
  const forbidden = (message: string) => expect.objectContaining({ code: ErrorCode.ERROR_CODE_FORBIDDEN, message });

  it('says who may moderate and who the actor is', () => {
    expect(() => assertMayModerate(V, 'pin')).toThrow(forbidden('only the broadcaster, moderators and staff may pin; you are a viewer'));
    expect(() => assertMayModerate(M, 'pin')).not.toThrow();
  });

  it('says who may manage moderators', () => {
    expect(() => assertMayManageModerators(M)).toThrow(forbidden('only the broadcaster and staff may grant or revoke moderators; you are a moderator'));
    expect(() => assertMayManageModerators(S)).not.toThrow();
  });

  it('names the rule that protects the target', () => {
    expect(() => assertMayActOn(S, B)).toThrow(forbidden('staff may not act on the broadcaster: nobody may act on the broadcaster in their own room'));
    expect(() => assertMayActOn(B, S)).toThrow(forbidden('the broadcaster may not act on staff: nobody in a room may act on staff'));
    expect(() => assertMayActOn(M, M)).toThrow(forbidden('a moderator may not act on a moderator: only the broadcaster and staff may act on a moderator'));
    expect(() => assertMayActOn(MEMBER, V)).toThrow(forbidden('only the broadcaster, moderators and staff may moderate; you are a member'));
    expect(() => assertMayActOn(B, M)).not.toThrow();
  });
});
