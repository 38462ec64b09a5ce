export { ensureServices } from "./services";
export type { StackLogger, StackUrls } from "./services";
export { ensureDatabase, dropDatabase, migrate, pendingMigrations, migrationNames } from "./database";
export { ensureManagementPlugin, RabbitAdmin } from "./rabbitmq";
export { isListening, waitForPort, hostPort } from "./ports";
