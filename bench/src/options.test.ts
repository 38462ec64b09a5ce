import { parseOptions } from "./options";

describe("bench options", () => {
  it("passes --node-flags to the platform's processes, after the profiler's", () => {
    const options = parseOptions(["--profile", "--node-flags=--max-old-space-size=64  --max-semi-space-size=4", "--only=gateway"]);
    expect(options.nodeFlags.slice(0, 1)).toEqual(["--cpu-prof"]);
    expect(options.nodeFlags.slice(2)).toEqual(["--max-old-space-size=64", "--max-semi-space-size=4"]);
    expect(options.phases).toEqual(["gateway"]);
  });

  it("gives the processes no flags of its own by default", () => {
    expect(parseOptions([]).nodeFlags).toEqual([]);
  });

  it("refuses --node-flags that are not Node options", () => {
    expect(() => parseOptions(["--node-flags=script.js"])).toThrow(/--node-flags wants Node options/);
    expect(() => parseOptions(["--node-flags="])).toThrow(/--node-flags wants Node options/);
  });
});
