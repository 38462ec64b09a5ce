import Mustache from "mustache";

/** The inside of a JSON string: quotes, backslashes and control characters escaped. */
const jsonStringEscape = (value: unknown) => JSON.stringify(String(value)).slice(1, -1);

/**
 * Renders a JSON template: every {{variable}} is escaped as the inside of a JSON string, so a
 * value with quotes or newlines cannot break the document ("name": "{{name}}"); {{{variable}}}
 * inserts the value as it is, for numbers and booleans ("count": {{{count}}}).
 */
export function renderJson(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: jsonStringEscape });
}
