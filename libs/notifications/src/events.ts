import { AppError } from "@herald/errors";
import type { AcceptContext, AcceptResult, AcceptService } from "./accept";
import type { RoutingRules } from "./routing-rules";
import { DIGEST_VARIABLES, digestSchema, throttleSchema, type EventInput, type SendInput } from "./schemas";

/**
 * POST /events: what happened to a user, turned into a send by the routing rule for its type
 * (template, channels, priority; the event's data are the template's variables). The send goes
 * through the same AcceptService as POST /notifications/send, with source "event".
 */
export class EventService {
  constructor(
    private readonly rules: RoutingRules,
    private readonly accept: AcceptService,
  ) {}

  async send(event: EventInput, ctx: AcceptContext): Promise<AcceptResult> {
    const rule = await this.rules.find(event.type);
    if (!rule || !rule.enabled) {
      throw new AppError(
        "routing_rule_not_found",
        rule ? `The routing rule for "${event.type}" is disabled` : `No routing rule for event type "${event.type}"; create one with POST /routing-rules`,
        [{ field: "type", message: rule ? "its routing rule is disabled" : "has no routing rule" }],
      );
    }
    if (rule.digest) {
      const reserved = DIGEST_VARIABLES.filter((name) => name in event.data);
      if (reserved.length > 0) {
        throw AppError.validation(reserved.map((name) => ({ field: `data.${name}`, message: "is given by Herald to a digest's template; a digest send cannot supply it" })));
      }
    }
    const input: SendInput = {
      user_id: event.user_id,
      channels: rule.channels,
      template_id: rule.template_id,
      variables: event.data,
      priority: rule.priority,
      ...(event.idempotency_key ? { idempotency_key: event.idempotency_key } : {}),
      // Stored with windows in seconds, which is what a number means to the schemas.
      ...(rule.digest ? { digest: digestSchema.parse(rule.digest) } : {}),
      ...(rule.throttle ? { throttle: throttleSchema.parse(rule.throttle) } : {}),
    };
    // A retried event with the same key is the same event, even if its rule changed meanwhile.
    const idempotencyBody = { event: { ...event, idempotency_key: undefined } };
    return this.accept.accept(input, { ...ctx, source: "event", eventType: event.type, idempotencyBody });
  }
}
