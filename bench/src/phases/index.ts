// The phases, in the order a run takes them; each is `npm run bench -- --only=<name>`.
import type { Bench } from "../context";
import type { PhaseName } from "../options";
import type { PhaseResult } from "../report";
import { burstPhase } from "./burst";
import { emailPhase } from "./email";
import { gatewayPhase } from "./gateway";
import { millionPhase } from "./million";
import { retentionPhase } from "./retention";
import { steadyPhase } from "./steady";
import { workersPhase } from "./workers";

export const PHASE_RUNNERS: Record<PhaseName, (bench: Bench) => Promise<PhaseResult>> = {
  gateway: gatewayPhase,
  email: emailPhase,
  steady: steadyPhase,
  million: millionPhase,
  burst: burstPhase,
  workers: workersPhase,
  retention: retentionPhase,
};
