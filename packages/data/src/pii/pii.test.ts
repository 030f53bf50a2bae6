import { describe, expect, it } from 'vitest';
import { ibanValid } from './iban.js';
import { luhnValid } from './credit-card.js';
import type { PiiType } from './match.js';
import { detectPii, piiRedactor, redactPii, PII_TYPES } from './redact.js';

/** Labelled sentences: every PII value in them, by type. Sentences without labels are tricky negatives. */
const LABELLED: Array<{ text: string; pii: Array<[PiiType, string]> }> = [
  // emails
  { text: 'Write to john.doe+news@example.co.uk for details.', pii: [['email', 'john.doe+news@example.co.uk']] },
  { text: 'Contact: <maria_garcia@mail.univ.edu>.', pii: [['email', 'maria_garcia@mail.univ.edu']] },
  { text: 'Send it to ops@acme-corp.io, then call.', pii: [['email', 'ops@acme-corp.io']] },
  { text: 'Follow @jack on the site and run user@localhost tests.', pii: [] },
  { text: 'The decorator @property and the npm scope @lmkit/data are code.', pii: [] },
  // phones
  { text: 'Call +44 20 7946 0958 during office hours.', pii: [['phone', '+44 20 7946 0958']] },
  { text: 'Our US line is (415) 555-0132 and fax 415.555.0199.', pii: [['phone', '(415) 555-0132'], ['phone', '415.555.0199']] },
  { text: 'In France dial 01 23 45 67 89 or +33 1 23 45 67 89.', pii: [['phone', '01 23 45 67 89'], ['phone', '+33 1 23 45 67 89']] },
  { text: 'Berlin office: +49 (30) 1234-5678.', pii: [['phone', '+49 (30) 1234-5678']] },
  { text: 'Toll free 1-800-555-0199 anytime.', pii: [['phone', '1-800-555-0199']] },
  { text: 'ISBN 978-0-306-40615-7 and ISBN 0-306-40615-2 are books.', pii: [] },
  { text: 'See doi 10.1000/182 and order #415-555-0132 in the ledger.', pii: [] },
  { text: 'The meeting is on 2021-03-04 and the budget was 1234567890 dollars.', pii: [] },
  { text: 'Population grew from 1,234,567 to 2,345,678 in 10 years.', pii: [] },
  { text: 'Visit https://example.com/item/4155550132 for the product.', pii: [] },
  // IPs
  { text: 'The server at 8.8.8.8 answered; the gateway 192.168.1.1 did not.', pii: [['ip', '8.8.8.8']] },
  { text: 'Blocked 203.0.113.5 (docs range) and 151.101.1.69 (real).', pii: [['ip', '151.101.1.69']] },
  { text: 'Upgrade to version 1.2.3.4 of the library; OID 1.3.6.1.4.1 is fine.', pii: [] },
  { text: 'Released 10.12.2020.1 as a build tag.', pii: [] },
  { text: 'IPv6 host 2606:4700:4700::1111 answered, fe80::1 is link-local and ::1 loopback.', pii: [['ip', '2606:4700:4700::1111']] },
  { text: 'The race started at 10:30:45 and ended at 11:02:10.', pii: [] },
  { text: 'Documentation prefix 2001:db8::1 is reserved.', pii: [] },
  // credit cards
  { text: 'Card 4111 1111 1111 1111 was charged.', pii: [['credit_card', '4111 1111 1111 1111']] },
  { text: 'Amex 3782-822463-10005 on file.', pii: [['credit_card', '3782-822463-10005']] },
  { text: 'Mastercard 5555555555554444 expired.', pii: [['credit_card', '5555555555554444']] },
  { text: 'Order 4111 1111 1111 1112 fails Luhn; tracking 1234567890123456 too.', pii: [] },
  // IBANs
  { text: 'Pay to DE89 3704 0044 0532 0130 00 by Friday.', pii: [['iban', 'DE89 3704 0044 0532 0130 00']] },
  { text: 'UK account GB82WEST12345698765432 is fine.', pii: [['iban', 'GB82WEST12345698765432']] },
  { text: 'Bad check digits DE88 3704 0044 0532 0130 00 are not an IBAN.', pii: [] },
  // addresses
  { text: 'She lived at 742 Evergreen Terrace, Springfield, IL 62704 for years.', pii: [['address', '742 Evergreen Terrace, Springfield, IL 62704']] },
  { text: 'Ship to 1600 Pennsylvania Avenue NW please.', pii: [['address', '1600 Pennsylvania Avenue']] },
  { text: 'Mail P.O. Box 1234 or 221B Baker Street.', pii: [['address', 'P.O. Box 1234'], ['address', '221B Baker Street']] },
  { text: 'In 1865 the war ended and 3 men walked down the street.', pii: [] },
  // names
  { text: 'Dr. Alice Morgan presented, and Mr. Smith replied.', pii: [['name', 'Alice Morgan'], ['name', 'Smith']] },
  { text: 'Yesterday John Smith met Mary Johnson at the station.', pii: [['name', 'John Smith'], ['name', 'Mary Johnson']] },
  { text: 'Dear Robert F. Kennedy, thank you.', pii: [['name', 'Robert F. Kennedy']] },
  { text: 'May Day parades filled the United States in May.', pii: [] },
  { text: 'Will Congress act? The Senate met on Monday.', pii: [] },
  { text: 'The President addressed the Congress and the American people.', pii: [] },
  { text: 'Grant Programs expanded in April.', pii: [] },
];

describe('PII detectors on a labelled set', () => {
  it('reaches the precision and recall floors per type and reports them', () => {
    const tp: Record<string, number> = {};
    const fp: Record<string, number> = {};
    const fn: Record<string, number> = {};
    const misses: string[] = [];
    for (const { text, pii } of LABELLED) {
      const found = detectPii(text, PII_TYPES).map((m) => `${m.type}|${text.slice(m.start, m.end)}`);
      const want = pii.map(([t, v]) => `${t}|${v}`);
      for (const f of found) {
        const t = f.split('|')[0];
        if (want.includes(f)) tp[t] = (tp[t] ?? 0) + 1;
        else {
          fp[t] = (fp[t] ?? 0) + 1;
          misses.push(`FP ${f}`);
        }
      }
      for (const w of want) if (!found.includes(w)) {
        const t = w.split('|')[0];
        fn[t] = (fn[t] ?? 0) + 1;
        misses.push(`FN ${w}`);
      }
    }
    const rows = PII_TYPES.map((t) => {
      const p = (tp[t] ?? 0) / Math.max(1, (tp[t] ?? 0) + (fp[t] ?? 0));
      const r = (tp[t] ?? 0) / Math.max(1, (tp[t] ?? 0) + (fn[t] ?? 0));
      return { t, p, r };
    });
    console.log(`PII precision/recall on ${LABELLED.length} labelled sentences:\n` + rows.map((x) => `  ${x.t.padEnd(12)} P=${x.p.toFixed(2)} R=${x.r.toFixed(2)}`).join('\n') + (misses.length ? `\n  errors: ${misses.join('; ')}` : ''));
    const totalTp = Object.values(tp).reduce((a, b) => a + b, 0);
    const totalFp = Object.values(fp).reduce((a, b) => a + b, 0);
    const totalFn = Object.values(fn).reduce((a, b) => a + b, 0);
    expect(totalTp / (totalTp + totalFp)).toBeGreaterThanOrEqual(0.95);
    expect(totalTp / (totalTp + totalFn)).toBeGreaterThanOrEqual(0.95);
    for (const { p, r } of rows) {
      expect(p).toBeGreaterThanOrEqual(0.85);
      expect(r).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('validates checksums: Luhn and IBAN mod-97', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('GB82WEST1234569876543')).toBe(false); // wrong length for GB
  });
});

describe('redaction modes', () => {
  const text = 'Mail ann@example.org or call +1 415 555 0132.';
  it('replaces with tags, masks, deletes and hashes with a salt', () => {
    expect(redactPii(text).text).toBe('Mail <EMAIL> or call <PHONE>.');
    expect(redactPii(text, { mode: 'mask' }).text).toBe('Mail ***@*******.*** or call +* *** *** ****.');
    expect(redactPii(text, { mode: 'redact' }).text).toBe('Mail  or call .');
    const h1 = redactPii(text, { mode: 'hash', salt: 's1' }).text;
    const h2 = redactPii(text, { mode: 'hash', salt: 's2' }).text;
    expect(h1).toMatch(/^Mail <EMAIL:[0-9a-f]{16}> or call <PHONE:[0-9a-f]{16}>\.$/);
    expect(h1).not.toBe(h2);
    expect(redactPii(text, { mode: 'hash', salt: 's1' }).text).toBe(h1);
  });

  it('refuses hash mode without a salt, with a typed error', () => {
    expect(() => piiRedactor({ mode: 'hash' })).toThrow(expect.objectContaining({ code: 'DATA_PII_NO_SALT' }));
  });

  it('as a step: counts kinds in meta and drops documents over maxMatches', () => {
    const step = piiRedactor({ maxMatches: 1 });
    const ctx = { rank: 0, worldSize: 1, outDir: '.' };
    const one = step.process({ id: '1', text: 'a@b.com is here', meta: {} }, ctx);
    expect(one).toEqual({ id: '1', text: '<EMAIL> is here', meta: { pii: { email: 1 } } });
    expect(step.process({ id: '2', text: 'a@b.com and c@d.com', meta: {} }, ctx)).toEqual({ drop: true, reason: 'pii_too_many', value: 2 });
    const clean = { id: '3', text: 'nothing here', meta: {} };
    expect(step.process(clean, ctx)).toBe(clean);
  });
});
