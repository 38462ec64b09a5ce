import { z } from "zod";
import { decodeCursor, encodeCursor } from "@herald/db";
import { actorOf, send, type Api } from "@herald/http";
import { createUserSchema, deviceSchema, listUsersQuerySchema, preferencesSchema, rotateSecretSchema, updateUserSchema, type UserService } from "@herald/users";

const byId = z.object({ id: z.string().min(1).max(255) });
const TAG = "Users";

export function userRoutes(api: Api, users: UserService): void {
  api.route(
    {
      method: "post",
      path: "/users",
      tag: TAG,
      summary: "Create a user",
      description: "With a webhook_url, the answer carries `webhook_secret` (the signing secret), shown this once.",
      body: createUserSchema,
      status: 201,
      errors: [409],
    },
    async ({ body, res }) => send(res, await users.create(body, actorOf(res)), { status: 201, message: "User created" }),
  );

  api.route(
    {
      method: "get",
      path: "/users",
      tag: TAG,
      summary: "List users (oldest first), filtered by email (case-insensitive) or external_id",
      query: listUsersQuerySchema,
    },
    async ({ query, res }) => {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const { users: page, next } = await users.list({
        limit: query.limit,
        ...(after ? { after } : {}),
        ...(query.email ? { email: query.email } : {}),
        ...(query.external_id ? { externalId: query.external_id } : {}),
      });
      send(res, page, { meta: next ? { next_cursor: encodeCursor(next) } : {} });
    },
  );

  api.route(
    { method: "get", path: "/users/:id", tag: TAG, summary: "A user by id or external_id, with preferences and devices", params: byId, errors: [404] },
    async ({ params, res }) => send(res, await users.get(params.id)),
  );

  api.route(
    {
      method: "patch",
      path: "/users/:id",
      tag: TAG,
      summary: "Change a user's fields (null clears one)",
      description: "Setting a webhook_url on a user without a signing secret answers `webhook_secret` once; clearing webhook_url clears the secret.",
      params: byId,
      body: updateUserSchema,
      errors: [404, 409],
    },
    async ({ params, body, res }) => send(res, await users.update(params.id, body, actorOf(res)), { message: "User updated" }),
  );

  api.route(
    { method: "delete", path: "/users/:id", tag: TAG, summary: "Delete a user: erases contact data, webhook secret and devices", params: byId, status: 204, errors: [404] },
    async ({ params, res }) => {
      await users.delete(params.id, actorOf(res));
      res.status(204).end();
    },
  );

  api.route(
    { method: "get", path: "/users/:id/preferences", tag: TAG, summary: "A user's preferences", params: byId, errors: [404] },
    async ({ params, res }) => send(res, await users.getPreferences(params.id)),
  );

  api.route(
    {
      method: "put",
      path: "/users/:id/preferences",
      tag: TAG,
      summary: "Change preferences; fields left out keep their values; push_token registers a device",
      params: byId,
      body: preferencesSchema,
      errors: [404],
    },
    async ({ params, body, res }) => {
      const user = await users.putPreferences(params.id, body, actorOf(res));
      send(res, user.preferences, { message: "Preferences saved" });
    },
  );

  deviceRoutes(api, users);

  api.route(
    {
      method: "post",
      path: "/users/:id/webhook-secret/rotate",
      tag: TAG,
      summary: "A new webhook signing secret (shown this once); the old one keeps signing for keep_previous_for (default 24 h)",
      description:
        "While the replaced secret is valid every webhook carries two Standard Webhooks signatures (`webhook-signature: v1,<new> v1,<old>`), so a receiver can switch secrets without refusing a delivery. `keep_previous_for: 0` ends the old one at once. `X-Signature` is made with the new secret only.",
      params: byId,
      body: rotateSecretSchema,
      errors: [404, 409],
    },
    async ({ params, body, res }) => send(res, await users.rotateWebhookSecret(params.id, body.keep_previous_for, actorOf(res)), { message: "Webhook secret rotated" }),
  );
}

function deviceRoutes(api: Api, users: UserService): void {
  api.route(
    {
      method: "get",
      path: "/users/:id/devices",
      tag: TAG,
      summary: "A user's push devices (also listed on the user)",
      params: byId,
      errors: [404],
    },
    async ({ params, res }) => send(res, (await users.get(params.id)).devices),
  );

  api.route(
    {
      method: "post",
      path: "/users/:id/devices",
      tag: TAG,
      summary: "Register a push token (201 new for this user, 200 already theirs; a token moves to the newest user registering it)",
      params: byId,
      body: deviceSchema,
      status: 201,
      errors: [404],
    },
    async ({ params, body, res }) => {
      const { device, created } = await users.addDevice(params.id, body, actorOf(res));
      send(res, device, created ? { status: 201, message: "Device registered" } : { message: "Device already registered" });
    },
  );

  api.route(
    {
      method: "delete",
      path: "/users/:id/devices/:token",
      tag: TAG,
      summary: "Remove a push token from a user (404 if the user has no such token)",
      params: z.object({ id: z.string().min(1).max(255), token: z.string().min(1).max(4096) }),
      status: 204,
      errors: [404],
    },
    async ({ params, res }) => {
      await users.deleteDevice(params.id, params.token, actorOf(res));
      res.status(204).end();
    },
  );
}
