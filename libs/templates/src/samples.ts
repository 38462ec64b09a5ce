import type { CreateTemplateInput } from "./schemas";

/** The welcome email `npm start` seeds and the benchmark sends: the one every README example uses. */
export const WELCOME_EMAIL: CreateTemplateInput = {
  template_id: "welcome_email",
  name: "Welcome email",
  channel: "email",
  language: "en",
  subject: "Welcome, {{name}}!",
  body_text: "Hello {{name}},\n\nWelcome aboard. We are glad you are here.\n",
  body_html: "<p>Hello {{name}},</p><p>Welcome aboard. We are glad you are here.</p>",
  variables: ["name"],
};
