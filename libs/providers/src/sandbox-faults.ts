import type { Redis } from "@herald/cache";

export const SANDBOX_CHANNELS = ["push", "sms", "whatsapp"] as const;
export type SandboxChannel = (typeof SANDBOX_CHANNELS)[number];

/**
 * fail: a retryable provider error (retried, then dead-lettered); permanent: a permanent one
 * (straight to the dead-letter queue); timeout: the send hangs until the provider timeout and
 * fails as a retryable timeout.
 */
export const FAULT_MODES = ["fail", "permanent", "timeout"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface PendingFault {
  mode: FaultMode;
  remaining: number;
}

const key = (channel: SandboxChannel) => `sandbox:faults:${channel}`;
const TTL_MS = 24 * 3_600_000;

/**
 * Takes one fault off the head of the channel's list ("mode:count" entries) in one step, so that
 * worker replicas taking faults at the same moment take one each.
 */
const TAKE_SCRIPT = `
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return false end
local sep = string.find(head, ':', 1, true)
local mode = string.sub(head, 1, sep - 1)
local left = tonumber(string.sub(head, sep + 1)) - 1
if left <= 0 then redis.call('LPOP', KEYS[1]) else redis.call('LSET', KEYS[1], 0, mode .. ':' .. left) end
return mode
`;

/**
 * Faults for the sandbox providers, in Redis because the gateway (POST /sandbox/faults) and the
 * workers (which take them) are different processes. Faults queue up in the order they were
 * asked for; each send takes one. They expire after a day if no send takes them.
 */
export class SandboxFaults {
  constructor(private readonly redis: Redis) {}

  async add(channel: SandboxChannel, mode: FaultMode, count: number): Promise<PendingFault[]> {
    await this.redis.multi().rpush(key(channel), `${mode}:${count}`).pexpire(key(channel), TTL_MS).exec();
    return this.pending(channel);
  }

  /** The next fault for a send on this channel, if any (consumed). */
  async take(channel: SandboxChannel): Promise<FaultMode | undefined> {
    const mode = (await this.redis.eval(TAKE_SCRIPT, 1, key(channel))) as string | null;
    return mode && (FAULT_MODES as readonly string[]).includes(mode) ? (mode as FaultMode) : undefined;
  }

  async pending(channel: SandboxChannel): Promise<PendingFault[]> {
    const entries = await this.redis.lrange(key(channel), 0, -1);
    return entries.map((entry) => {
      const [mode, count] = entry.split(":");
      return { mode: mode as FaultMode, remaining: Number(count) };
    });
  }

  async clear(channel: SandboxChannel): Promise<void> {
    await this.redis.del(key(channel));
  }
}
