import type { Config } from "@herald/config";
import { SmtpEmailProvider } from "@herald/providers";

/** SMTP_HOST when set; otherwise the dev inbox that `npm start` runs on DEV_SMTP_PORT. */
export function emailProviderFor(config: Config): SmtpEmailProvider {
  const { smtp } = config;
  if (smtp.host) {
    return new SmtpEmailProvider({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      user: smtp.user,
      password: smtp.password,
      maxConnections: smtp.maxConnections,
      timeoutMs: smtp.timeoutMs,
    });
  }
  return new SmtpEmailProvider({
    name: "dev-inbox",
    host: "127.0.0.1",
    port: config.ports.devSmtp,
    secure: false,
    maxConnections: smtp.maxConnections,
    timeoutMs: smtp.timeoutMs,
  });
}
