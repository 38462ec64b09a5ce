import { AppError, type ErrorDetail } from "@herald/errors";

/**
 * How deep any JSON body, query or path value may nest (objects and arrays). Free-form fields
 * (variables, event data) are stored as jsonb, rendered by mustache and hashed for idempotency,
 * all of which recurse; 32 levels is far beyond any real template's data.
 */
export const MAX_JSON_DEPTH = 32;

/** U+0000 (PostgreSQL text and jsonb cannot hold it) and UTF-16 surrogates without their pair. */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function why(text: string): string {
  return text.includes("\u0000") ? "contains U+0000 (NUL), which cannot be stored" : "contains a lone UTF-16 surrogate (not valid Unicode)";
}

/** A path segment as it reads in `details.field`: plain when it can be, JSON-escaped when it is odd. */
function segment(key: string | number): string {
  if (typeof key === "number") return String(key);
  return /^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key);
}

/**
 * The problems of a request's body, query or path values before anything parses them further:
 * strings (and keys) that PostgreSQL cannot store, and nesting deeper than MAX_JSON_DEPTH.
 * Iterative, so a value nested 100,000 deep costs a loop, not the stack. At most 10 problems.
 */
export function inputProblems(value: unknown, prefix: string[] = []): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: { value: unknown; path: string[] }[] = [{ value, path: prefix }];
  while (stack.length > 0 && problems.length < 10) {
    const { value: node, path } = stack.pop()!;
    const field = path.length > 0 ? path.join(".") : "(body)";
    if (typeof node === "string") {
      if (UNSTORABLE.test(node)) problems.push({ field, message: why(node) });
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    if (path.length - prefix.length >= MAX_JSON_DEPTH) {
      problems.push({ field, message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i -= 1) stack.push({ value: node[i], path: [...path, String(i)] });
      continue;
    }
    const entries = Object.entries(node as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const [key, child] = entries[i]!;
      if (UNSTORABLE.test(key)) problems.push({ field: [...path, segment(key)].join("."), message: `is a key that ${why(key)}` });
      else stack.push({ value: child, path: [...path, segment(key)] });
    }
  }
  return problems;
}

/** Throws 400 validation_failed naming each field whose value cannot be taken (see inputProblems). */
export function assertStorable(value: unknown, what: string, prefix: string[] = []): void {
  const problems = inputProblems(value, prefix);
  if (problems.length > 0) throw AppError.validation(problems, `The ${what} is not valid`);
}
