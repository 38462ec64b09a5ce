import { isDatabaseUnavailable, isUniqueViolation } from "./errors";

describe("database errors", () => {
  it("counts an unreachable database and a transaction that could not start in time as unavailable (503), not a bug", () => {
    expect(isDatabaseUnavailable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("Transaction API error: Unable to start a transaction in the given time."), { code: "P2028" }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isUniqueViolation({ code: "P2002" })).toBe(true);
  });
});
