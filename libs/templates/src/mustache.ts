import Mustache from "mustache";
import type { ErrorDetail } from "@herald/errors";

export interface TemplateProblem extends ErrorDetail {
  field: string;
  message: string;
  /** 0-based character offset in the field where the problem is, when known. */
  position?: number;
  /** The same place as 1-based line and column, for multi-line bodies. */
  line?: number;
  column?: number;
}

/** Adds line and column to a problem that has a position in `text`. */
function located(problem: TemplateProblem, text: string): TemplateProblem {
  if (problem.position === undefined) return problem;
  const before = text.slice(0, problem.position).split("\n");
  return { ...problem, line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

type Token = [string, string, number, number, Token[]?, number?];

/**
 * Parses a mustache template and returns the variables it uses at the top level, each with the
 * position of its first tag (for a dotted name, its first segment; names inside a section belong
 * to the section's items and are left out).
 * Throws a TemplateProblem when it does not parse.
 */
export function variablesOf(field: string, template: string): Map<string, number> {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as unknown as Token[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at (\d+)/.exec(message)?.[1];
    throw { field, message: `does not parse: ${message}`, ...(position ? { position: Number(position) } : {}) } satisfies TemplateProblem;
  }
  const names = new Map<string, number>();
  for (const [type, value, start] of tokens) {
    if (type === ">") {
      throw { field, message: `uses the partial {{> ${value}}}; partials are not supported`, position: start } satisfies TemplateProblem;
    }
    if (type === "name" || type === "&" || type === "{" || type === "#" || type === "^") {
      const name = value.split(".")[0]!;
      if (value !== "." && !names.has(name)) names.set(name, start);
    }
  }
  return names;
}

/** Every problem of a set of template fields against the declared variables. */
export function checkTemplate(fields: Record<string, string | undefined | null>, declared: readonly string[]): TemplateProblem[] {
  const allowed = new Set(declared.map((v) => v.split(".")[0]!));
  const problems: TemplateProblem[] = [];
  for (const [field, text] of Object.entries(fields)) {
    if (text === undefined || text === null) continue;
    try {
      for (const [name, position] of variablesOf(field, text)) {
        if (!allowed.has(name)) {
          problems.push(located({ field, message: `uses {{${name}}}, which is not declared in variables`, position }, text));
        }
      }
    } catch (problem) {
      problems.push(located(problem as TemplateProblem, text));
    }
  }
  return problems;
}

const noEscape = (value: unknown) => String(value);

/** Renders text as is (subjects, text bodies, SMS). */
export function renderText(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: noEscape });
}

/** Renders HTML with every {{variable}} HTML-escaped ({{{variable}}} for trusted HTML). */
export function renderHtml(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view);
}

function setPath(view: Record<string, unknown>, path: string[], value: unknown): void {
  let node = view;
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    const existing = node[key];
    if (last) {
      if (existing === undefined) node[key] = value;
      return;
    }
    if (typeof existing !== "object" || existing === null) {
      if (existing !== undefined) return;
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
}

/**
 * Stand-in values for checking a template's shape before anyone sends it: every variable the
 * template uses is "0" (which reads as a JSON string's content and as a JSON number alike) and
 * every section is an empty list (rendered zero times; inverted sections once).
 */
export function sampleView(template: string): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [type, value] of Mustache.parse(template) as unknown as Token[]) {
    if (value === "." || typeof value !== "string") continue;
    if (type === "#" || type === "^") setPath(view, value.split("."), []);
    else if (type === "name" || type === "&" || type === "{") setPath(view, value.split("."), "0");
  }
  return view;
}

/** Declared variables the caller did not give (top-level names). */
export function missingVariables(declared: readonly string[], given: Record<string, unknown>): string[] {
  const top = new Set(declared.map((v) => v.split(".")[0]!));
  return [...top].filter((name) => given[name] === undefined || given[name] === null);
}
