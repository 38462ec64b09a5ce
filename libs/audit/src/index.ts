export { recordAudit, recordAuditSql, eraseContactData, CONTACT_FIELDS } from "./record";
export type { Actor, AuditWrite } from "./record";
export { AuditLog } from "./queries";
export { listAuditSchema, auditEntrySchema } from "./schemas";
export type { ListAuditQuery, AuditEntryView } from "./schemas";
