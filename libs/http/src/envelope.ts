import type { Response } from "express";

/** The one shape of every JSON answer: { success, data, error, message, meta }. */
export interface Envelope<T = unknown> {
  success: boolean;
  data: T | null;
  error: { code: string; details?: unknown[] } | null;
  message: string;
  meta: Record<string, unknown>;
}

export interface SendOptions {
  status?: number;
  message?: string;
  meta?: Record<string, unknown>;
}

export function send<T>(res: Response, data: T, { status = 200, message = "ok", meta = {} }: SendOptions = {}): void {
  const body: Envelope<T> = {
    success: true,
    data,
    error: null,
    message,
    meta: { correlation_id: res.locals.correlationId as string | undefined, ...meta },
  };
  res.status(status).json(body);
}

export function sendError(res: Response, status: number, code: string, message: string, details?: unknown[]): void {
  const body: Envelope<null> = {
    success: false,
    data: null,
    error: details && details.length > 0 ? { code, details } : { code },
    message,
    meta: { correlation_id: res.locals.correlationId as string | undefined },
  };
  res.status(status).json(body);
}
