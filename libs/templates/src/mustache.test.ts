import { checkTemplate, missingVariables, renderHtml, renderText, sampleView, variablesOf } from "./mustache";

describe("mustache templates", () => {
  it("finds the top-level variables, sections included, item fields left out", () => {
    expect([...variablesOf("body", "Hi {{name}}, order {{order.id}} {{#items}}{{title}}{{/items}} {{{raw}}}").keys()]).toEqual(["name", "order", "items", "raw"]);
  });

  it("reports a template that does not parse, with the position", () => {
    const problems = checkTemplate({ subject: "Hello {{name" }, ["name"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: "subject" });
    expect(problems[0]!.message).toMatch(/does not parse/);
    expect(problems[0]!.position).toBeGreaterThanOrEqual(0);
  });

  it("reports a variable that is not declared", () => {
    expect(checkTemplate({ body_text: "Hi {{name}} {{surname}}" }, ["name"])).toEqual([
      { field: "body_text", message: "uses {{surname}}, which is not declared in variables", position: 12, line: 1, column: 13 },
    ]);
    expect(checkTemplate({ body_text: "Order {{order.id}}" }, ["order.id"])).toEqual([]);
  });

  it("escapes HTML bodies and leaves text as it is", () => {
    expect(renderHtml("<p>{{name}}</p>", { name: "<script>" })).toBe("<p>&lt;script&gt;</p>");
    expect(renderText("Hi {{name}}", { name: "<script> & co" })).toBe("Hi <script> & co");
  });

  it("lists the declared variables a send did not give", () => {
    expect(missingVariables(["name", "order.id", "order.total"], { name: "Ada" })).toEqual(["order"]);
    expect(missingVariables(["name"], { name: null })).toEqual(["name"]);
  });

  it("gives line and column for problems in multi-line bodies", () => {
    const [problem] = checkTemplate({ body_html: "<p>Hi</p>\n<p>{{name}} {{oops}}</p>" }, ["name"]);
    expect(problem).toMatchObject({ field: "body_html", position: 22, line: 2, column: 13 });
  });

  it("refuses partials, which nothing could resolve", () => {
    expect(checkTemplate({ body_text: "Hi {{> footer}}" }, [])).toEqual([expect.objectContaining({ field: "body_text", message: expect.stringContaining("partial") })]);
  });

  it("stands in '0' for each variable and an empty list for each section", () => {
    expect(sampleView("{{a}} {{{b}}} {{c.d}} {{#list}}{{x}}{{/list}} {{^none}}-{{/none}}")).toEqual({ a: "0", b: "0", c: { d: "0" }, list: [], none: [] });
  });
});

describe("templates checked at every depth", () => {
  it("refuses a partial inside a section, like at the top level", () => {
    expect(checkTemplate({ body_text: "{{#v}}{{> x}}{{/v}}" }, ["v"])).toEqual([expect.objectContaining({ field: "body_text", message: expect.stringContaining("partial") })]);
    expect(checkTemplate({ body_text: "{{^v}}{{#w}}{{> x}}{{/w}}{{/v}}" }, ["v", "w"])).toEqual([expect.objectContaining({ message: expect.stringContaining("partial") })]);
  });

  it("refuses a variable inside a section that is declared neither as the items' field nor at the top", () => {
    expect(checkTemplate({ body_text: "{{#v}}{{other}}{{/v}}" }, ["v"])).toEqual([
      expect.objectContaining({ field: "body_text", message: expect.stringContaining("{{other}} inside {{#v}}"), position: 6 }),
    ]);
    expect(checkTemplate({ body_text: "{{#v}}{{other}}{{/v}}" }, ["v.other"])).toEqual([]);
    expect(checkTemplate({ body_text: "{{#v}}{{other}}{{/v}}" }, ["v", "other"])).toEqual([]);
    expect(checkTemplate({ body_text: "{{#a}}{{#b}}{{c.d}}{{/b}}{{/a}}" }, ["a.b.c"])).toEqual([]);
    expect(checkTemplate({ body_text: "{{#a}}{{#b}}{{c}}{{/b}}{{/a}}" }, ["a", "b.c"])).toEqual([]);
    expect(checkTemplate({ body_text: "{{#a}}{{#b}}{{c}}{{/b}}{{/a}}" }, ["a.b"])).toHaveLength(1);
    expect(checkTemplate({ body_text: "{{#a}}{{.}}{{/a}}" }, ["a"])).toEqual([]);
  });

  it("refuses sections nested deeper than 16 levels without overflowing the stack, 8,000 levels included", () => {
    const nested = (n: number) => "{{#a}}".repeat(n) + "x" + "{{/a}}".repeat(n);
    expect(checkTemplate({ body_text: nested(16) }, ["a"])).toEqual([]);
    expect(checkTemplate({ body_text: nested(17) }, ["a"])).toEqual([expect.objectContaining({ message: expect.stringContaining("deeper than 16") })]);
    expect(checkTemplate({ body_text: nested(8000) }, ["a"])).toEqual([expect.objectContaining({ message: expect.stringContaining("deeper than 16") })]);
  });

  it("counts a declared constructor, toString or __proto__ as missing unless the send gives it", () => {
    expect(missingVariables(["constructor", "toString", "__proto__", "name"], { name: "Ada" })).toEqual(["constructor", "toString", "__proto__"]);
    expect(missingVariables(["constructor", "toString"], JSON.parse('{"constructor": "c", "toString": "t"}'))).toEqual([]);
  });
});
