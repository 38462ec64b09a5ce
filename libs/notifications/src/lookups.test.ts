import type { TemplateView } from "@herald/templates";
import { memoizedLookups, type Lookups } from "./lookups";

describe("memoizedLookups", () => {
  it("asks each distinct question once", async () => {
    const calls: string[] = [];
    const inner: Lookups = {
      user: (ref) => {
        calls.push(`user ${ref}`);
        return Promise.resolve(undefined);
      },
      template: (templateId) => {
        calls.push(`template ${templateId}`);
        return Promise.resolve(undefined);
      },
      version: (template, channel, languages) => {
        calls.push(`version ${template?.template_id} ${channel} ${languages.join(",")}`);
        return Promise.resolve(undefined);
      },
    };
    const memo = memoizedLookups(inner);
    const t = { template_id: "t", updated_at: "2026-11-23T00:00:00.000Z" } as TemplateView;
    await Promise.all([memo.user("a"), memo.user("a"), memo.user("b"), memo.template("t"), memo.template("t")]);
    await Promise.all([memo.version(t, "email", ["en"]), memo.version(t, "email", ["en"]), memo.version(t, "email", ["fr"]), memo.version(t, "sms", ["en"])]);
    expect(calls).toEqual(["user a", "user b", "template t", "version t email en", "version t email fr", "version t sms en"]);
  });
});
