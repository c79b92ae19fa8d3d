// Questions staff ask a customer on a fault (DESIGN.md, "Notifications and service hours"):
// while one waits for its answer the vendor waits on the customer, so the fault's clocks
// pause (fault-clock.ts questionPauses) from the asking until the answer. Both acts are
// audited with the change; an answer is taken once (a conditional update).
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Fault } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';

const unresolved = new Set(['open', 'acknowledged', 'fix_available']);

export async function askQuestion(context: SluiceContext, fault: Fault, text: string, actor: string): Promise<string> {
  if (!unresolved.has(fault.status))
    throw new SluiceError('conflict', `fault ${fault.id} is ${fault.status}: its clocks have stopped, there is nothing to wait for`, {
      status: fault.status,
    });
  const now = context.options.now();
  const id = randomUUID();
  await context.store.transaction(async (tx) => {
    await tx.faults.askQuestion({ id, fault: fault.id, text, askedBy: actor, askedAt: now });
    await tx.audit.record({ at: now, actor, action: 'fault.question', subject: `fault:${fault.id}`, details: { question: id } });
  });
  return id;
}

export async function answerQuestion(context: SluiceContext, fault: Fault, question: string, answer: string, actor: string): Promise<void> {
  const asked = await context.store.faults.question(question);
  if (!asked || asked.fault !== fault.id) throw new SluiceError('not_found', `no question "${question}" on fault ${fault.id}`);
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    if (!(await tx.faults.answerQuestion(question, { text: answer, by: actor, at: now })))
      throw new SluiceError('conflict', `the question was answered already`);
    await tx.audit.record({ at: now, actor, action: 'fault.answer', subject: `fault:${fault.id}`, details: { question } });
  });
}
