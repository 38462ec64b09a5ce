import { smsSegments } from "./sms";

describe("smsSegments", () => {
  it("fits 160 GSM-7 characters in one segment, splits longer text into parts of 153", () => {
    expect(smsSegments("a".repeat(160))).toEqual({ encoding: "GSM-7", characters: 160, units: 160, segments: 1 });
    expect(smsSegments("a".repeat(161))).toMatchObject({ encoding: "GSM-7", segments: 2 });
    expect(smsSegments("a".repeat(306))).toMatchObject({ segments: 2 });
    expect(smsSegments("a".repeat(307))).toMatchObject({ segments: 3 });
    expect(smsSegments("Hi {{name}}, your code is 1234. @£$¥ èéùìò ÄÖÑÜ§¿ äöñüà")).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it("counts extension characters as two units and never splits one across parts", () => {
    expect(smsSegments("€".repeat(80))).toMatchObject({ encoding: "GSM-7", characters: 80, units: 160, segments: 1 });
    expect(smsSegments("€".repeat(81))).toMatchObject({ units: 162, segments: 2 });
    // 152 plain + one € (2 units) does not fit a 153-unit part: the € starts the second one.
    expect(smsSegments(`${"a".repeat(152)}€${"a".repeat(10)}`)).toMatchObject({ units: 164, segments: 2 });
    expect(smsSegments(`${"a".repeat(152)}€${"a".repeat(151)}`)).toMatchObject({ units: 305, segments: 2 });
    // 306 units would fill exactly two parts of 153, but the € cannot be split: three.
    expect(smsSegments(`${"a".repeat(152)}€${"a".repeat(152)}`)).toMatchObject({ units: 306, segments: 3 });
    expect(smsSegments("{[~]}|^\\")).toMatchObject({ encoding: "GSM-7", units: 16 });
  });

  it("switches the whole text to UCS-2 for any other character: 70 in one, 67 per part", () => {
    expect(smsSegments(`${"a".repeat(69)}ç`)).toMatchObject({ encoding: "UCS-2", units: 70, segments: 1 });
    expect(smsSegments(`${"a".repeat(70)}ç`)).toMatchObject({ encoding: "UCS-2", segments: 2 });
    expect(smsSegments("Привет ".repeat(20))).toMatchObject({ encoding: "UCS-2", characters: 140, segments: 3 });
  });

  it("counts an emoji as two UTF-16 units and keeps its pair together", () => {
    expect(smsSegments("😀".repeat(35))).toMatchObject({ encoding: "UCS-2", characters: 35, units: 70, segments: 1 });
    expect(smsSegments(`${"a".repeat(66)}😀`)).toMatchObject({ units: 68, segments: 1 });
    expect(smsSegments(`${"a".repeat(66)}😀${"a".repeat(3)}`)).toMatchObject({ units: 71, segments: 2 });
  });
});
