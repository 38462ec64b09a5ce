import type { Drill } from "../drill";
import { duplicates } from "./duplicates";
import { gatewayKill, gatewayKillAll } from "./gateway-kill";
import { poison } from "./poison";
import { smtpHang, smtpRefuse, smtpRejectReplay, smtpSilent } from "./provider";
import { postgresStop, rabbitmqRestart, redisDown } from "./services";
import { workerKill, workerKill3x } from "./worker-kill";

/** Every drill, in the order `npm run chaos` runs them. */
export const DRILLS: Drill[] = [
  workerKill,
  workerKill3x,
  gatewayKill,
  gatewayKillAll,
  rabbitmqRestart,
  postgresStop,
  redisDown,
  smtpRefuse,
  smtpSilent,
  smtpHang,
  smtpRejectReplay,
  poison,
  duplicates,
];
