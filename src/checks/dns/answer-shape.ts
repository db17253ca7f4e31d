import { isIP } from 'node:net';
import { isQueryName } from './query-name.ts';

const EXAMPLES: Record<string, string> = {
  A: '"10.0.0.1"',
  AAAA: '"2001:db8::1"',
  CNAME: '"shop.example."',
  NS: '"ns1.example."',
  PTR: '"shop.example."',
  MX: '"10 mail.shop.example."',
  SRV: '"10 5 5060 sip.shop.example." (priority weight port target)',
  SOA: '"ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300"',
};

function isShaped(recordType: string, value: string): boolean {
  const tokens = value.trim().split(/\s+/);
  const isNumber = (token: string | undefined, max: number) =>
    token !== undefined && /^\d+$/.test(token) && Number(token) <= max;
  switch (recordType) {
    case 'A':
      return isIP(value.trim()) === 4;
    case 'AAAA':
      return isIP(value.trim()) === 6;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return tokens.length === 1 && isQueryName(tokens[0]);
    case 'MX':
      return tokens.length === 2 && isNumber(tokens[0], 65_535) && isQueryName(tokens[1]);
    case 'SRV':
      return (
        tokens.length === 4 &&
        tokens.slice(0, 3).every((token) => isNumber(token, 65_535)) &&
        isQueryName(tokens[3])
      );
    case 'SOA':
      return (
        tokens.length === 7 &&
        isQueryName(tokens[0]) &&
        isQueryName(tokens[1]) &&
        tokens.slice(2).every((token) => isNumber(token, 4_294_967_295))
      );
    default:
      return true;
  }
}

/**
 * Why an expected answer can never match a record of this type, or undefined if it can:
 * an A check expecting "10.0.0.300" is a typo that would otherwise fail every run.
 */
export function answerShapeProblem(recordType: string, value: string): string | undefined {
  if (isShaped(recordType, value)) return undefined;
  return `${recordType} answers are written like ${EXAMPLES[recordType]}, got ${JSON.stringify(value)}`;
}
