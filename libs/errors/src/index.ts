export { AppError, statusOf } from "./app-error";
export type { ErrorCode, ErrorDetail } from "./app-error";
export { DeliveryError, RetryableDeliveryError, PermanentDeliveryError, UndeliverableError, asDeliveryError } from "./delivery-errors";
