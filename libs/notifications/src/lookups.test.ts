import { memoizedLookups, type Lookups } from "./lookups";

describe("memoizedLookups", () => {
  it("asks each distinct question once", async () => {
    const calls: string[] = [];
    const inner: Lookups = {
      user: (ref) => {
        calls.push(`user ${ref}`);
        return Promise.resolve(undefined);
      },
      version: (templateId, channel, languages) => {
        calls.push(`version ${templateId} ${channel} ${languages.join(",")}`);
        return Promise.resolve(undefined);
      },
    };
    const memo = memoizedLookups(inner);
    await Promise.all([memo.user("a"), memo.user("a"), memo.user("b")]);
    await Promise.all([memo.version("t", "email", ["en"]), memo.version("t", "email", ["en"]), memo.version("t", "email", ["fr"]), memo.version("t", "sms", ["en"])]);
    expect(calls).toEqual(["user a", "user b", "version t email en", "version t email fr", "version t sms en"]);
  });
});
