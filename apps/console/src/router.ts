// The hash route: what each page gets, and how a page moves to another (app.tsx renders them).

/** What every page gets: whether this key may write, and where it was asked to look. */
export interface PageProps {
  canWrite: boolean;
  /** The rest of the hash route: #/notifications/<id> gives ["<id>"]. */
  args: string[];
}

export function route(): { page: string; args: string[] } {
  const [page = "overview", ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { page, args };
}

export function navigate(...parts: string[]): void {
  location.hash = `#/${parts.map(encodeURIComponent).join("/")}`;
}
