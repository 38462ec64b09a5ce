import { PassThrough } from "node:stream";
import winston from "winston";
import { createLogger, withCorrelation } from "./logger";

describe("createLogger", () => {
  it("formats nothing below its level, in children too, and follows a level changed later", () => {
    const logger = createLogger({ service: "test", level: "warn" });
    const lines: Record<string, unknown>[] = [];
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>));
    logger.clear().add(new winston.transports.Stream({ stream: out }));
    const transform = jest.spyOn(logger.format, "transform");
    const child = withCorrelation(logger, "corr-1");

    logger.info("dropped", { big: "x".repeat(1000) });
    child.debug("dropped too");
    expect(transform).not.toHaveBeenCalled();

    child.warn("kept");
    logger.error("kept too");
    logger.level = "debug";
    child.debug("now kept");
    expect(transform).toHaveBeenCalledTimes(3);
    expect(lines.map((l) => [l.level, l.message, l.correlation_id])).toEqual([
      ["warn", "kept", "corr-1"],
      ["error", "kept too", undefined],
      ["debug", "now kept", "corr-1"],
    ]);
    expect(lines[0]).toMatchObject({ service: "test", timestamp: expect.any(String) });
    expect(child.info("chains")).toBe(child);
  });
});
