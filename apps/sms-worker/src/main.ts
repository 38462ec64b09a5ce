import { runChannelWorker } from "@herald/delivery";

/** sms.queue: SMS and WhatsApp through Twilio (TWILIO_*, else the sandbox). */
runChannelWorker("sms-worker", ["sms", "whatsapp"], (config) => config.ports.smsWorker);
