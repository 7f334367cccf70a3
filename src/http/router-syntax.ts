/**
 * Other routers' path syntax, which tsgi's own paths do not read: a key of `mount` and a rule of
 * `RouteMap` holding it would match its text literally, every request it was meant for a
 * silent 404, so both refuse it by this one definition.
 *
 * @module
 */

/**
 * A path segment that is another router's parameter: `:name` (Express, Hono; `:name?`,
 * Express's `:name(\\d+)` and Hono's `:name{[0-9]+}` included: a `{…}` holding a `/` is cut at
 * it, so its start is enough), or `*` / `*name` (Express 4 and 5, Hono). Tested on one segment
 * (no `/`); group 1 is a `:name`'s name, group 2 a `*name`'s.
 */
export const FOREIGN_SEGMENT = /^(?::([A-Za-z_$][\w$]*)\??(?:\(.*\)|\{.*)?|\*([A-Za-z_$][\w$]*)?)$/s;
