// Paging of the moderation workers' lists (moderation log, reports): newest first, `limit` rows
// a page, `cursor` = the id of the last row of the previous page (opaque to callers).
import { badRequest } from '@lomi/errors';

const LIMIT_DEFAULT = 50;
const LIMIT_MAX = 200;

export interface PageRequest {
  limit: number;
  /** Rows older than this id; undefined for the first page. */
  beforeId?: number;
}

export function pageRequest(params: Record<string, string>): PageRequest {
  const limit = params.limit ? Number(params.limit) : LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIMIT_MAX) throw badRequest(`limit must be 1–${LIMIT_MAX}`);
  if (!params.cursor) return { limit };
  if (!/^[1-9][0-9]{0,15}$/.test(params.cursor)) throw badRequest('cursor is not one this API gave');
  return { limit, beforeId: Number(params.cursor) };
}

/** The page of `rows` (read with limit + 1, newest first) and the cursor of the next, empty when none. */
export function page<T extends { id: number }>(rows: T[], { limit }: PageRequest): { rows: T[]; nextCursor: string } {
  const shown = rows.slice(0, limit);
  return { rows: shown, nextCursor: rows.length > limit ? String(shown.at(-1)!.id) : '' };
}
