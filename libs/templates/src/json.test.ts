import { renderJson } from "./json";

describe("renderJson", () => {
  it("escapes {{variables}} as JSON string content, so the document stays valid", () => {
    const text = renderJson('{"text": "Hello {{name}}", "n": {{{count}}}}', { name: 'Ada "the first"\nLovelace\\', count: 3 });
    expect(JSON.parse(text)).toEqual({ text: 'Hello Ada "the first"\nLovelace\\', n: 3 });
  });

  it("does not HTML-escape", () => {
    expect(JSON.parse(renderJson('{"t": "{{v}}"}', { v: "<a href='x'>&</a>" }))).toEqual({ t: "<a href='x'>&</a>" });
  });
});
