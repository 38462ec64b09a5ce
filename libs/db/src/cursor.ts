/** Opaque list cursors: base64url of the last row's sort key. */
export function encodeCursor(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const value = Buffer.from(cursor, "base64url").toString("utf8");
    return value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
