// The zone staff read times in: ?zone=Area/City on any console page, else the one chosen, else UTC, and always
// named next to the times (issue 18: "in the staff member's zone with the zone shown"); the
// choice is remembered in a cookie, set from the overview's form.
import type { FastifyRequest } from 'fastify';
import { IANAZone } from 'luxon';

/** The cookie that remembers the zone a staff member chose (POST /staff/zone). */
export const zoneCookie = 'sluice_zone';

export function staffZone(request: FastifyRequest): string {
  const asked = (request.query as Record<string, string> | undefined)?.zone ?? request.cookies?.[zoneCookie];
  return asked && IANAZone.isValidZone(asked) ? asked : 'UTC';
}
