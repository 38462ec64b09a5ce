import type { QueryConfig } from "pg";

const names = new Map<string, string>();
/** Statements beyond this many distinct texts run unnamed (a text built from data would otherwise grow the map). */
const MAX_NAMED = 200;

/**
 * A statement of a hot path as a named prepared statement: each connection parses and plans it
 * once (after a few runs PostgreSQL keeps its generic plan), instead of on every call. For the
 * one-per-mail claim, planning cost about as much as running the statement. The name is the
 * text's: the same text always gets the same name, so no connection ever sees one name with two
 * texts.
 */
export function prepared(text: string, values: unknown[]): QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMED) return { text, values };
    name = `herald_${names.size}`;
    names.set(text, name);
  }
  return { name, text, values };
}
