/*
 * SMS segment counting (3GPP TS 23.038 / 23.040). A text made only of GSM-7 characters is sent in
 * 7-bit units: 160 fit one SMS; a longer text is split into parts of 153 (the rest holds the
 * concatenation header), and the extension characters (€ [ ] { } ...) take two units each and are
 * never split across parts. Any other character switches the whole text to UCS-2: 70 UTF-16 units
 * in one SMS, 67 per part, a surrogate pair never split. Written here because it is a table and a
 * loop; the packages that do it are unmaintained or pull in far more than this.
 */

const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION = "\f^{}\\[~]|€";
const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

export interface SmsSegments {
  encoding: "GSM-7" | "UCS-2";
  /** Characters as a reader counts them (code points). */
  characters: number;
  /** 7-bit units (GSM-7) or UTF-16 units (UCS-2) the text takes. */
  units: number;
  segments: number;
}

const SINGLE = { "GSM-7": 160, "UCS-2": 70 } as const;
const PART = { "GSM-7": 153, "UCS-2": 67 } as const;

/** How many SMS the text is sent as, and in which encoding. */
export function smsSegments(text: string): SmsSegments {
  const chars = [...text];
  const gsm = chars.every((c) => basic.has(c) || extension.has(c));
  const encoding = gsm ? "GSM-7" : "UCS-2";
  const sizes = chars.map((c) => (gsm ? (extension.has(c) ? 2 : 1) : c.length));
  const units = sizes.reduce((a, b) => a + b, 0);
  if (units <= SINGLE[encoding]) return { encoding, characters: chars.length, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > PART[encoding]) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return { encoding, characters: chars.length, units, segments };
}

/** One SMS holds this many characters of the text's encoding. */
export function singleSegmentLimit(encoding: SmsSegments["encoding"]): number {
  return SINGLE[encoding];
}
