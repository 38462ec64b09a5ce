import type { Channel } from "@herald/db";
import type { TemplateCatalog, TemplateVersionView, TemplateView } from "@herald/templates";
import type { UserDirectory, UserProfile } from "@herald/users";

/** How a send finds its user, its template, and the template's versions for the user. */
export interface Lookups {
  user(ref: string): Promise<UserProfile | undefined>;
  template(templateId: string): Promise<TemplateView | undefined>;
  /** Undefined when the template is unknown (undefined) or has no variant for the channel. */
  version(template: TemplateView | undefined, channel: Channel, languages: (string | undefined)[], version?: number): Promise<TemplateVersionView | undefined>;
}

/** Straight through the (Redis-cached) directory and catalog: one send. */
export function directLookups(users: UserDirectory, templates: TemplateCatalog): Lookups {
  return {
    user: (ref) => users.find(ref),
    template: (templateId) => templates.get(templateId),
    version: (template, channel, languages, version) => templates.choose(template, channel, languages, version),
  };
}

/** Each distinct question asked once: the items of one bulk share their users and templates. */
export function memoizedLookups(inner: Lookups): Lookups {
  const users = new Map<string, Promise<UserProfile | undefined>>();
  const templates = new Map<string, Promise<TemplateView | undefined>>();
  const versions = new Map<string, Promise<TemplateVersionView | undefined>>();
  const once = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let value = map.get(key);
    if (!value) {
      value = load();
      map.set(key, value);
    }
    return value;
  };
  return {
    user: (ref) => once(users, ref, () => inner.user(ref)),
    template: (templateId) => once(templates, templateId, () => inner.template(templateId)),
    version: (template, channel, languages, version) =>
      once(versions, JSON.stringify([template?.template_id ?? null, channel, languages, version ?? null]), () =>
        inner.version(template, channel, languages, version),
      ),
  };
}
