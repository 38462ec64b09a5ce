import type { Config } from "@herald/config";
import { createRedis } from "@herald/cache";
import { createDatabase } from "@herald/db";
import { TemplateCatalog, TemplateService, WELCOME_EMAIL } from "@herald/templates";
import { UserDirectory, UserService } from "@herald/users";

/**
 * What a newcomer needs to send a first email: the welcome_email template and one user, Ada.
 * Created once; later starts leave them (and any change made to them) alone.
 */
export async function seed(config: Config): Promise<void> {
  const db = createDatabase({ url: config.database.url, poolSize: 2, applicationName: "launcher" });
  const redis = createRedis(config.redis);
  try {
    const templates = new TemplateService(db, new TemplateCatalog(db, redis));
    const exists = await db.prisma.template.findUnique({ where: { id: "welcome_email" } });
    if (!exists) {
      await templates.create(WELCOME_EMAIL);
    }
    const directory = new UserDirectory(db, redis);
    if (!(await directory.load("ada"))) {
      await new UserService(db, directory).create({ external_id: "ada", name: "Ada Lovelace", email: "ada@example.com", language: "en" });
    }
  } finally {
    redis.disconnect();
    await db.close();
  }
}
