import { runChannelWorker } from "@herald/delivery";

/** push.queue: push through FCM (FIREBASE_SERVICE_ACCOUNT, else the sandbox). */
runChannelWorker("push-worker", ["push"], (config) => config.ports.pushWorker);
