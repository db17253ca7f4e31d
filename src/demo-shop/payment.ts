/** Card details as posted to `POST /api/pay`, after validation. */
export interface Payment {
  /** Digits only: spaces and dashes people type are dropped. */
  card: string;
  expiry: string;
  cvc: string;
  name: string;
}

export type PaymentResult =
  | { ok: true; payment: Payment }
  | { ok: false; problems: { path: string; message: string }[] };

const EXPIRY_RE = /^(\d{2})\s*\/\s*(\d{2})$/;

/**
 * Checks every field and reports all problems at once. Messages never repeat the card
 * number or the CVC: they are secrets, and error bodies end up in monitoring results.
 */
export function validatePayment(body: unknown, now = new Date()): PaymentResult {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  const { card, expiry, cvc, name } = fields as Record<string, unknown>;
  const problems: { path: string; message: string }[] = [];

  const cardDigits = typeof card === 'string' ? card.replace(/[\s-]/g, '') : '';
  if (typeof card !== 'string' || cardDigits === '') {
    problems.push({ path: 'card', message: 'is required' });
  } else if (!/^\d{12,19}$/.test(cardDigits)) {
    const digitCount = cardDigits.replace(/\D/g, '').length;
    const others = cardDigits.length - digitCount;
    problems.push({
      path: 'card',
      message: `must be 12 to 19 digits, got ${digitCount} digits${others > 0 ? ` and ${others} other characters` : ''}`,
    });
  }

  const expiryText = typeof expiry === 'string' ? expiry.trim() : '';
  const expiryMatch = EXPIRY_RE.exec(expiryText);
  if (typeof expiry !== 'string' || expiryText === '') {
    problems.push({ path: 'expiry', message: 'is required, as MM/YY' });
  } else if (!expiryMatch || Number(expiryMatch[1]) < 1 || Number(expiryMatch[1]) > 12) {
    problems.push({ path: 'expiry', message: `must be MM/YY, got ${JSON.stringify(expiry.slice(0, 20))}` });
  } else {
    const month = Number(expiryMatch[1]);
    const year = 2000 + Number(expiryMatch[2]);
    const thisMonth = now.getUTCFullYear() * 12 + now.getUTCMonth();
    if (year * 12 + (month - 1) < thisMonth) {
      problems.push({ path: 'expiry', message: `card expired in ${expiryMatch[1]}/${expiryMatch[2]}` });
    }
  }

  if (typeof cvc !== 'string' || !/^\d{3,4}$/.test(cvc.trim())) {
    problems.push({ path: 'cvc', message: 'must be 3 or 4 digits' });
  }

  const holder = typeof name === 'string' ? name.trim() : '';
  if (holder === '' || holder.length > 100) {
    problems.push({ path: 'name', message: 'must be the name on the card, 1 to 100 characters' });
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    payment: { card: cardDigits, expiry: expiryText, cvc: (cvc as string).trim(), name: holder },
  };
}
