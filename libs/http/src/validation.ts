import type { z } from "zod";
import { AppError, type ErrorDetail } from "@herald/errors";

/** zod issues as the contract's `details`: one entry per bad field, named by its path. */
export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)",
    message: issue.message,
    code: issue.code,
  }));
}

/** Parses or throws a 400 validation_failed naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = "request body"): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw AppError.validation(zodDetails(result.error), `The ${what} is not valid`);
  return result.data;
}
