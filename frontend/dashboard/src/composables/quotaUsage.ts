// A channel's monthly message quota as an inbox keeps it in its settings ({limit, used}), with how
// close it is to the limit: warned from 80 %, "full" once used up. Shared by the inbox page and
// the administrators' banner so both say the same.
export type QuotaLevel = "ok" | "high" | "full";
export interface QuotaUsage { used: number; limit: number; level: QuotaLevel }

export function quotaUsage(quota: unknown): QuotaUsage | null {
  const q = quota as { limit?: unknown; used?: unknown } | null | undefined;
  if (!q || typeof q.used !== "number" || typeof q.limit !== "number" || q.limit <= 0) return null;
  const level: QuotaLevel = q.used >= q.limit ? "full" : q.used >= 0.8 * q.limit ? "high" : "ok";
  return { used: q.used, limit: q.limit, level };
}
