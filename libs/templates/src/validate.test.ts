import { AppError } from "@herald/errors";
import type { VariantContent } from "./schemas";
import { textWarnings, validateContent } from "./validate";

function problems(content: Partial<VariantContent> & Pick<VariantContent, "channel" | "body_text">): { field: string; message: string }[] {
  try {
    validateContent({ language: "en", variables: [], ...content });
    return [];
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.code).toBe("validation_failed");
    return (error.details ?? []) as { field: string; message: string }[];
  }
}
const fields = (list: { field: string }[]) => list.map((p) => p.field).sort();

describe("validateContent per channel", () => {
  it("email needs a subject and takes body_html, not push fields", () => {
    expect(problems({ channel: "email", subject: "Hi", body_text: "x", body_html: "<p>x</p>" })).toEqual([]);
    expect(fields(problems({ channel: "email", body_text: "x", title: "T", image: "https://x.example/i.png", data: { a: "b" } }))).toEqual(["data", "image", "subject", "title"]);
  });

  it("push needs a title, takes data and image, not subject or body_html; data keys FCM reserves are refused", () => {
    expect(problems({ channel: "push", title: "T", body_text: "x", data: { order: "{{id}}" }, image: "https://x.example/i.png", variables: ["id"] })).toEqual([]);
    expect(fields(problems({ channel: "push", body_text: "x", subject: "S", body_html: "<p/>" }))).toEqual(["body_html", "subject", "title"]);
    expect(fields(problems({ channel: "push", title: "T", body_text: "x", data: { from: "a", "google.x": "b", ok: "c" } }))).toEqual(["data.from", "data.google.x"]);
  });

  it("sms and whatsapp take body_text only, naming each field they do not use", () => {
    for (const channel of ["sms", "whatsapp"] as const) {
      expect(problems({ channel, body_text: "Code {{code}}", variables: ["code"] })).toEqual([]);
      const found = problems({ channel, body_text: "x", subject: "S", body_html: "<p/>", title: "T", data: {}, image: "https://x.example/i.png" });
      expect(fields(found)).toEqual(["body_html", "data", "image", "subject", "title"]);
      expect(found[0]!.message).toContain(`not used by ${channel} templates`);
    }
  });

  it("webhook and slack bodies must render to JSON with stand-in values", () => {
    const ok = [
      '{"text": "Hello {{name}}", "count": {{count}}, "raw": {{{count}}}}',
      '{"items": [{{#items}}{"t": "{{title}}"}{{^last}},{{/last}}{{/items}}], "order": {"id": "{{order.id}}"}}',
      '[{"a": "{{name}}"}]',
    ];
    for (const body of ok) expect(problems({ channel: "webhook", body_text: body, variables: ["name", "count", "items.title", "items.last", "order.id"] })).toEqual([]);
    const bad = problems({ channel: "slack", body_text: '{"text": "Hello {{name}}",}', variables: ["name"] });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ field: "body_text" });
    expect(bad[0]!.message).toMatch(/valid JSON/);
    expect(fields(problems({ channel: "webhook", body_text: "Hello {{name}}", variables: ["name"] }))).toEqual(["body_text"]);
  });

  it("reports mustache problems once, not also as a JSON problem", () => {
    const found = problems({ channel: "webhook", body_text: '{"a": "{{name"}', variables: ["name"] });
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/does not parse/);
  });
});

describe("textWarnings", () => {
  it("warns when an SMS body is longer than one segment, with the count", () => {
    expect(textWarnings("sms", "a".repeat(160))).toEqual([]);
    expect(textWarnings("sms", "a".repeat(200))).toEqual([{ field: "body_text", message: expect.stringContaining("2 SMS segments"), segments: 2, encoding: "GSM-7" }]);
    expect(textWarnings("sms", "ç".repeat(71))[0]).toMatchObject({ segments: 2, encoding: "UCS-2" });
  });

  it("warns for WhatsApp only past Twilio's 1600 characters, and never for other channels", () => {
    expect(textWarnings("whatsapp", "a".repeat(1600))).toEqual([]);
    expect(textWarnings("whatsapp", "a".repeat(1601))[0]?.message).toContain("1600");
    expect(textWarnings("email", "a".repeat(5000))).toEqual([]);
  });
});
