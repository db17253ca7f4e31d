/**
 * The schedule slot a job fills (epoch ms), for jobs made by a job scheduler only: BullMQ
 * names them `repeat:<scheduler id>:<slot ms>`. Run-now jobs fill no slot (undefined).
 */
export function slotOf(job: { id?: string; repeatJobKey?: string }): number | undefined {
  if (!job.repeatJobKey || !job.id) return undefined;
  const match = /:(\d+)$/.exec(job.id);
  return match ? Number(match[1]) : undefined;
}
