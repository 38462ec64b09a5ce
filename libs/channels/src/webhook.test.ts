import { PermanentDeliveryError } from "@herald/errors";
import { jsonBody } from "./webhook";

describe("jsonBody", () => {
  it("posts the rendered JSON byte for byte (the signature covers exactly these bytes)", () => {
    const text = '{ "event": "order.created",\n  "id": 42 }';
    expect(jsonBody("webhook", text)).toBe(text);
    expect(jsonBody("webhook", "[1, 2]")).toBe("[1, 2]");
  });

  it("refuses a body that is not JSON, permanently", () => {
    expect(() => jsonBody("webhook", '{"count": seven}')).toThrow(PermanentDeliveryError);
    expect(() => jsonBody("webhook", '{"count": seven}')).toThrow(expect.objectContaining({ code: "webhook_invalid_json" }));
  });

  it("takes only a JSON object for Slack", () => {
    expect(jsonBody("slack", '{"text": "hi"}')).toBe('{"text": "hi"}');
    for (const body of ["[1]", '"hi"', "null", "not json"]) {
      expect(() => jsonBody("slack", body)).toThrow(expect.objectContaining({ code: "slack_invalid_json" }));
    }
  });
});
