// Who may do what, decided from roles the workers computed (state.ts), never from the client.
// Every moderation command asks these, so the rules live here once.
import { RequestError } from '@lomi/errors';
import { ErrorCode, Role } from '@lomi/protocol';

/** Roles that may moderate a room: pin and unpin now, delete, time out and ban later. */
const MODERATING = new Set<Role>([Role.ROLE_BROADCASTER, Role.ROLE_MODERATOR, Role.ROLE_STAFF]);

/** The role in words, for refusals ("a moderator may not act on staff"). */
export function roleName(role: Role): string {
  switch (role) {
    case Role.ROLE_BROADCASTER:
      return 'the broadcaster';
    case Role.ROLE_MODERATOR:
      return 'a moderator';
    case Role.ROLE_STAFF:
      return 'staff';
    case Role.ROLE_MEMBER:
      return 'a member';
    case Role.ROLE_VIEWER:
      return 'a viewer';
    default:
      return 'someone outside the room';
  }
}

export function mayModerate(role: Role): boolean {
  return MODERATING.has(role);
}

/** Granting and revoking moderators: the broadcaster's, and staff's. */
export function mayManageModerators(role: Role): boolean {
  return role === Role.ROLE_BROADCASTER || role === Role.ROLE_STAFF;
}

/**
 * Whether `actor` may take a moderation action against a user who is `target` in the same room
 * (revoke them, and later delete their messages, time them out, ban them). Nobody acts on the
 * broadcaster in their own room, nor on staff (only the app back end does, through the service
 * API); only the broadcaster and staff act on a moderator; any moderating role on the others.
 */
export function mayActOn(actor: Role, target: Role): boolean {
  if (!mayModerate(actor)) return false;
  if (target === Role.ROLE_BROADCASTER || target === Role.ROLE_STAFF) return false;
  if (target === Role.ROLE_MODERATOR) return mayManageModerators(actor);
  return true;
}

const forbidden = (message: string) => new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, message);

/** FORBIDDEN unless `actor` may moderate; `what` names the action ("pin"). */
export function assertMayModerate(actor: Role, what: string): void {
  if (!mayModerate(actor)) throw forbidden(`only the broadcaster, moderators and staff may ${what}; you are ${roleName(actor)}`);
}

/** FORBIDDEN unless `actor` may grant and revoke moderators. */
export function assertMayManageModerators(actor: Role): void {
  if (!mayManageModerators(actor)) throw forbidden(`only the broadcaster and staff may grant or revoke moderators; you are ${roleName(actor)}`);
}

/** FORBIDDEN unless mayActOn(actor, target), saying which rule refused it. */
export function assertMayActOn(actor: Role, target: Role): void {
  assertMayModerate(actor, 'moderate');
  if (mayActOn(actor, target)) return;
  const reason =
    target === Role.ROLE_BROADCASTER
      ? 'nobody may act on the broadcaster in their own room'
      : target === Role.ROLE_STAFF
        ? 'nobody in a room may act on staff'
        : 'only the broadcaster and staff may act on a moderator';
  throw forbidden(`${roleName(actor)} may not act on ${roleName(target)}: ${reason}`);
}
