import { call, must, type Answer } from "./api";

/** The channels a drill sends on: SMTP sink, sandbox push, sandbox SMS, webhook receiver. */
export type DrillChannel = "email" | "push" | "sms" | "webhook";
export const ALL_CHANNELS: DrillChannel[] = ["email", "push", "sms", "webhook"];

export const TEMPLATE_ID = "chaos_drill";

/** One send of the drill, and what the client got back. */
export interface Send {
  /** Unique per send: in the template's `mark` variable, so in the subject and body. */
  mark: string;
  channel: DrillChannel;
  at: number;
  answer: Answer;
  requestId?: string;
  deliveryId?: string;
}

/** The drill template: one variant per channel, each carrying the mark where a receiver sees it. */
export async function createTemplates(): Promise<void> {
  const base = { template_id: TEMPLATE_ID, name: "Chaos drill", variables: ["mark"] };
  await must("POST", "/templates", { ...base, channel: "email", subject: "Chaos {{mark}}", body_text: "Drill mark {{mark}}" }, [201]);
  await must("POST", "/templates", { ...base, channel: "push", title: "Chaos {{mark}}", body_text: "Drill mark {{mark}}" }, [201]);
  await must("POST", "/templates", { ...base, channel: "sms", body_text: "Chaos {{mark}}" }, [201]);
  await must("POST", "/templates", { ...base, channel: "webhook", body_text: '{"mark":"{{mark}}"}' }, [201]);
}

/**
 * Recipients with every address a drill needs (email, phone, a push device, the webhook receiver),
 * enough of them that the per-user rate limit (100 a minute by default) never answers 429.
 */
export async function createUsers(count: number, webhookUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (let first = 0; first < count; first += 10) {
    const group = Array.from({ length: Math.min(10, count - first) }, (_, i) => first + i);
    const created = await Promise.all(
      group.map(async (i) => {
        const user = await must<{ id: string }>(
          "POST",
          "/users",
          { name: `Chaos ${i}`, email: `chaos${i}@example.com`, phone: `+1415555${String(1000 + i).slice(-4)}`, webhook_url: webhookUrl },
          [201],
        );
        await must("POST", `/users/${user.id}/devices`, { token: `chaos-device-${i}`, platform: "android" }, [201, 200]);
        return user.id;
      }),
    );
    ids.push(...created);
  }
  return ids;
}

/** Users for `sends` notifications, at most ~40 each (well under the default rate limit). */
export function usersFor(sends: number): number {
  return Math.max(10, Math.ceil(sends / 40));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Accepted {
  request_id: string;
  deliveries?: { delivery_id: string; channel: string }[];
}

/** The drill's sends: single, bulk, or a paced stream; every answer kept. */
export class Load {
  readonly sends: Send[] = [];
  private seq = 0;

  constructor(
    /** The run and drill, so marks are unique across runs. */
    readonly prefix: string,
    private readonly users: string[],
  ) {}

  private nextMark(): { mark: string; user: string } {
    this.seq += 1;
    const user = this.users[this.seq % this.users.length]!;
    return { mark: `${this.prefix}-${String(this.seq).padStart(5, "0")}`, user };
  }

  private record(send: Send, result: Accepted | undefined): Send {
    if (result) {
      send.requestId = result.request_id;
      send.deliveryId = result.deliveries?.find((d) => d.channel === send.channel)?.delivery_id;
    }
    this.sends.push(send);
    return send;
  }

  /** POST /notifications/send. */
  async one(channel: DrillChannel): Promise<Send> {
    const { mark, user } = this.nextMark();
    const at = Date.now();
    const result = await call("POST", "/notifications/send", { user_id: user, channel, template_id: TEMPLATE_ID, variables: { mark } });
    const data = result.answer === 202 ? (result.body as { data: Accepted }).data : undefined;
    return this.record({ mark, channel, at, answer: result.answer }, data);
  }

  /** POST /notifications/send-bulk (a burst), in requests of up to 500; each item's status is its answer. */
  async bulk(channel: DrillChannel, count: number): Promise<Send[]> {
    const out: Send[] = [];
    for (let first = 0; first < count; first += 500) {
      const items = Array.from({ length: Math.min(500, count - first) }, () => this.nextMark());
      const at = Date.now();
      const result = await call("POST", "/notifications/send-bulk", {
        notifications: items.map(({ mark, user }) => ({ user_id: user, channel, template_id: TEMPLATE_ID, variables: { mark } })),
      });
      const answers = typeof result.answer === "number" && result.answer < 300 ? (result.body as { data: { status_code: number; data?: Accepted }[] }).data : undefined;
      items.forEach(({ mark }, i) => {
        const item = answers?.[i];
        out.push(this.record({ mark, channel, at, answer: item ? item.status_code : result.answer }, item?.status_code === 202 ? item.data : undefined));
      });
    }
    return out;
  }

  /**
   * `count` single sends at `perSecond`, the channels taken in turn, each on its own (a slow answer
   * does not hold the next send back; at most 200 wait at once). Resolves when every one answered.
   */
  async stream({ count, perSecond, channels, signal }: { count: number; perSecond: number; channels: DrillChannel[]; signal?: AbortSignal }): Promise<void> {
    const started = Date.now();
    const pending = new Set<Promise<Send>>();
    for (let i = 0; i < count && !signal?.aborted; i += 1) {
      const due = started + (i * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      while (pending.size >= 200) await Promise.race(pending);
      const p = this.one(channels[i % channels.length]!);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await Promise.all(pending);
  }

  accepted(): Send[] {
    return this.sends.filter((s) => s.answer === 202 && s.deliveryId !== undefined);
  }
}
