// A customer's contract terms (DESIGN.md, "Notifications and service hours"): per fault class,
// how long processing may take to start and whether that clock runs around the clock or only
// in the vendor's service hours. A customer without terms of its own has the seed's table
// (A 15, B 30, C 45, D 120 minutes; A and B 24×7); terms name only the classes they change.
import { SluiceError } from '../errors.js';
import { acknowledgeWithin, faultClasses, type FaultClass } from './faults.js';
import type { ClockSetting } from './fault-clock.js';

export interface ClassTerms {
  acknowledgeMinutes: number;
  aroundTheClock: boolean;
}
export type ContractTerms = Readonly<Record<FaultClass, ClassTerms>>;

const minute = 60_000;
/** Longest clock a contract may name: a fortnight, far beyond any service desk's. */
export const maxAcknowledgeMinutes = 14 * 24 * 60;

/** The seed's table: the terms of every customer who has none of its own. */
export const defaultContractTerms: ContractTerms = Object.freeze(
  Object.fromEntries(
    faultClasses.map((name) => [
      name,
      { acknowledgeMinutes: acknowledgeWithin[name] / minute, aroundTheClock: name === 'A' || name === 'B' },
    ]),
  ) as Record<FaultClass, ClassTerms>,
);

/** The customer's terms: its own classes over the seed's table; refuses, naming the class, terms no clock could count. */
export function contractTerms(own: Partial<Record<string, ClassTerms>> = {}): ContractTerms {
  const terms = { ...defaultContractTerms } as Record<FaultClass, ClassTerms>;
  for (const [name, given] of Object.entries(own)) {
    if (!given) continue;
    if (!(faultClasses as readonly string[]).includes(name))
      throw new SluiceError('invalid_contract_terms', `contract terms: no fault class ${JSON.stringify(name)} (A, B, C or D)`);
    const minutes = given.acknowledgeMinutes;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > maxAcknowledgeMinutes)
      throw new SluiceError(
        'invalid_contract_terms',
        `contract terms: class ${name} acknowledgeMinutes must be a whole number from 1 to ${maxAcknowledgeMinutes}, not ${JSON.stringify(minutes)}`,
      );
    if (typeof given.aroundTheClock !== 'boolean')
      throw new SluiceError('invalid_contract_terms', `contract terms: class ${name} aroundTheClock must be true or false`);
    terms[name as FaultClass] = { acknowledgeMinutes: minutes, aroundTheClock: given.aroundTheClock };
  }
  return Object.freeze(terms);
}

/** The classes whose terms differ from the seed's table: what is worth storing. */
export function termsChanged(terms: ContractTerms): Partial<Record<FaultClass, ClassTerms>> {
  return Object.fromEntries(
    faultClasses
      .filter(
        (name) =>
          terms[name].acknowledgeMinutes !== defaultContractTerms[name].acknowledgeMinutes ||
          terms[name].aroundTheClock !== defaultContractTerms[name].aroundTheClock,
      )
      .map((name) => [name, terms[name]]),
  );
}

/** The clock setting of a customer with these terms: the server's calendar and warning share, the terms' lengths and 24×7 classes. */
export function settingWithTerms(base: ClockSetting, terms: ContractTerms): ClockSetting {
  return {
    ...base,
    aroundTheClock: faultClasses.filter((name) => terms[name].aroundTheClock),
    acknowledgeWithin: Object.fromEntries(faultClasses.map((name) => [name, terms[name].acknowledgeMinutes * minute])) as Record<
      FaultClass,
      number
    >,
  };
}
