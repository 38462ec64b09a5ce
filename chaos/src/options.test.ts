import { parseOptions } from "./options";

const DRILLS = ["worker-kill", "poison"];

describe("npm run chaos arguments", () => {
  it("runs the full form through the proxy by default", () => {
    expect(parseOptions([], DRILLS)).toEqual({ short: false, only: undefined, services: "proxy" });
  });

  it("takes --short, --only and --services=real", () => {
    expect(parseOptions(["--short", "--only=worker-kill,poison"], DRILLS)).toEqual({ short: true, only: ["worker-kill", "poison"], services: "proxy" });
    expect(parseOptions(["--services=real"], DRILLS).services).toBe("real");
  });

  it("refuses unknown drills and flags, and real service faults in the short form", () => {
    expect(() => parseOptions(["--only=nope"], DRILLS)).toThrow(/unknown drill nope/);
    expect(() => parseOptions(["--fast"], DRILLS)).toThrow(/unknown argument --fast/);
    expect(() => parseOptions(["--short", "--services=real"], DRILLS)).toThrow(/TCP proxy only/);
  });
});
