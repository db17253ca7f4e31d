/** A time as every console page shows it: date and minute, UTC (a wall screen serves many zones). */
export function utcMinute(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
