// A report's users split over several runs of the Redis presence script, and the runs' changes
// put back together as the one change the report made.
import type { PresenceChange } from './room-presence';

/** Users per script run: a script holds Redis for its whole run (docs/decisions/0012). */
export const USERS_PER_SCRIPT = 256;

/** One run's users, and whether it may publish the count (only the last may: an earlier count is out of date). */
export interface ScriptPart {
  userIds: string[];
  mayPush: boolean;
}

/** The runs for `userIds`, in order; one run (which may push) when they fit in it, none of them left out. */
export function scriptParts(userIds: string[]): ScriptPart[] {
  const parts: ScriptPart[] = [];
  for (let from = 0; from === 0 || from < userIds.length; from += USERS_PER_SCRIPT) {
    parts.push({ userIds: userIds.slice(from, from + USERS_PER_SCRIPT), mayPush: from + USERS_PER_SCRIPT >= userIds.length });
  }
  return parts;
}

/** The runs' changes, in order, as one: the last run's count and push, the highest peak, every arrival and departure. */
export function mergeChanges(changes: PresenceChange[]): PresenceChange {
  const final = changes[changes.length - 1]!;
  return {
    ...final,
    peak: Math.max(...changes.map((c) => c.peak)),
    arrivals: changes.flatMap((c) => c.arrivals),
    departures: changes.flatMap((c) => c.departures),
  };
}
