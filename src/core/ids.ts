/** Random ids for records (UUID v4 from the platform's CSPRNG). */
export function newId(): string {
  return crypto.randomUUID();
}
