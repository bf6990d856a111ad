import { z } from "zod";

/** Text as PostgreSQL stores it: no NUL character (a 400 here, never a database error). */
export function text() {
  return z.string().refine((s) => !s.includes("\0"), "must not contain NUL characters");
}

/** The largest version number (PostgreSQL `integer`). */
export const MAX_VERSION = 2_147_483_647;

/** A timestamp as the API writes it (`Date.prototype.toISOString`). */
export const Timestamp = z.iso.datetime();

/**
 * A page of a list answer (docs/api.md#logs): `nextCursor` continues it (null on the last page),
 * `total` where counting is cheap.
 */
export function listPageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable(),
    total: z.number().int().nonnegative().optional(),
  });
}

const AnyPage = listPageOf(z.unknown());
/** A page of `T` (see `listPageOf`). */
export type ListPage<T> = Omit<z.infer<typeof AnyPage>, "items"> & { items: T[] };

/** A path parameter naming a script: its id or its name (a 400 for a NUL or an overlong one). */
export const ScriptRefSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !s.includes("\0"), "must not contain NUL characters");
