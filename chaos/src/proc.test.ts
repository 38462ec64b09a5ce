import { parseStat } from "./proc";

describe("/proc/<pid>/stat", () => {
  it("reads the parent and the process group after the command name, whatever the name holds", () => {
    expect(parseStat("4242 (node) S 4200 4100 4100 0 -1")).toEqual({ pid: 4242, state: "S", ppid: 4200, pgrp: 4100 });
    expect(parseStat("7 (a (weird) name) Z 1 7 7 0")).toEqual({ pid: 7, state: "Z", ppid: 1, pgrp: 7 });
    expect(parseStat("garbage")).toBeUndefined();
  });
});
