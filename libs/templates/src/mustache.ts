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

/** Sections may nest this deep (mustache renders recursively: 8,000 levels overflow the stack). */
export const MAX_SECTION_DEPTH = 16;

/** One tag that names a variable, with the sections it sits in (outermost first). */
export interface VariableUse {
  /** As written: name or order.id */
  name: string;
  position: number;
  sections: string[];
}

/**
 * Parses a mustache template and returns every tag that names a variable, at every depth, with
 * the sections around it. Iterative, so nesting costs no stack. Throws a TemplateProblem when it
 * does not parse, uses a partial (anywhere, sections included), or nests sections deeper than
 * MAX_SECTION_DEPTH.
 */
export function variableUses(field: string, template: string): VariableUse[] {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as unknown as Token[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at (\d+)/.exec(message)?.[1];
    throw { field, message: `does not parse: ${message}`, ...(position ? { position: Number(position) } : {}) } satisfies TemplateProblem;
  }
  const uses: VariableUse[] = [];
  const stack: { tokens: Token[]; sections: string[] }[] = [{ tokens, sections: [] }];
  while (stack.length > 0) {
    const { tokens: level, sections } = stack.pop()!;
    for (const [type, value, start, , children] of level) {
      if (type === ">") {
        throw { field, message: `uses the partial {{> ${value}}}; partials are not supported`, position: start } satisfies TemplateProblem;
      }
      if (type === "name" || type === "&" || type === "{" || type === "#" || type === "^") {
        if (value !== ".") uses.push({ name: value, position: start, sections });
      }
      if ((type === "#" || type === "^") && children) {
        if (sections.length + 1 > MAX_SECTION_DEPTH) {
          throw { field, message: `nests sections deeper than ${MAX_SECTION_DEPTH} levels`, position: start } satisfies TemplateProblem;
        }
        stack.push({ tokens: children, sections: value === "." ? sections : [...sections, value] });
      }
    }
  }
  return uses.sort((a, b) => a.position - b.position);
}

/** The top-level variables a template uses, each with the position of its first tag. */
export function variablesOf(field: string, template: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const use of variableUses(field, template)) {
    const name = use.name.split(".")[0]!;
    if (use.sections.length === 0 && !names.has(name)) names.set(name, use.position);
  }
  return names;
}

/**
 * Whether a tag may use `name` where it is: a declared top-level name (mustache falls back to the
 * root), or, inside sections, a field of a section's items declared as `<section>.<name>` (for
 * nested sections any chain of them: `a.b.name`, `b.name`).
 */
function declaredFor(use: VariableUse, declared: readonly string[], top: Set<string>): boolean {
  const first = use.name.split(".")[0]!;
  if (top.has(first)) return true;
  const { sections } = use;
  for (let i = 0; i < sections.length; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      const prefix = `${sections.slice(j, i + 1).join(".")}.${first}`;
      if (declared.some((d) => d === prefix || d.startsWith(`${prefix}.`))) return true;
    }
  }
  return false;
}

/** Every problem of a set of template fields against the declared variables, sections included. */
export function checkTemplate(fields: Record<string, string | undefined | null>, declared: readonly string[]): TemplateProblem[] {
  const top = new Set(declared.map((v) => v.split(".")[0]!));
  const problems: TemplateProblem[] = [];
  for (const [field, text] of Object.entries(fields)) {
    if (text === undefined || text === null) continue;
    try {
      const reported = new Set<string>();
      for (const use of variableUses(field, text)) {
        const first = use.name.split(".")[0]!;
        const where = use.sections.length > 0 ? ` inside {{#${use.sections[use.sections.length - 1]}}}` : "";
        if (declaredFor(use, declared, top) || reported.has(`${first}${where}`)) continue;
        reported.add(`${first}${where}`);
        const hint = use.sections.length > 0 ? ` (declare ${first} or ${use.sections[use.sections.length - 1]}.${first})` : "";
        problems.push(located({ field, message: `uses {{${first}}}${where}, which is not declared in variables${hint}`, position: use.position }, text));
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
  // Own properties only: a variable named constructor or toString is not "given" by Object.prototype.
  return [...top].filter((name) => !Object.hasOwn(given, name) || given[name] === undefined || given[name] === null);
}
