// What every portal page module shares: sending a page in the frame, the CSRF field, the
// "done" flash after a redirect, role checks, and a form's state (what was typed, what to fix)
// for re-rendering a refused form instead of losing the user's input.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from './html.js';
import { page, type PageOptions } from './layout.js';
import { refusal } from './plugin.js';
import type { PortalUser } from './sessions.js';
import type { Role } from '../auth/principal.js';

export interface FormState {
  /** Which form was refused, so that only it shows the error. */
  form: string;
  message: string;
  values: Record<string, string>;
  /** The raw body, for fields that repeat (checkboxes). */
  body?: unknown;
}

export function sendPage(request: FastifyRequest, reply: FastifyReply, options: Omit<PageOptions, 'user' | 'csrf'>, status = 200) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(page({ ...options, user: request.portal!.user, csrf: request.portal!.csrf }));
}

export const csrfField = (request: FastifyRequest): Html => html`<input type="hidden" name="_csrf" value="${request.portal!.csrf}" />`;

/** The flash for ?done=KEY after a form's redirect. */
export function doneFlash(request: FastifyRequest, messages: Record<string, string>) {
  const key = (request.query as Record<string, string> | undefined)?.done;
  return key && messages[key] ? { kind: 'ok' as const, text: messages[key] } : null;
}

/** Staff of the given roles (support and admin by default); null after answering the refusal. */
export function requireStaff(
  request: FastifyRequest,
  reply: FastifyReply,
  roles: readonly Role[] = ['support', 'admin'],
): PortalUser | null {
  if (!request.portal) {
    reply.redirect('/login');
    return null;
  }
  if (!roles.includes(request.portal.user.role)) {
    refusal(reply, request, 403, 'Not for this account', 'This page is not available to your account.');
    return null;
  }
  return request.portal.user;
}

/** The form body as strings, each cut to a sane length. */
export function formValues(body: unknown, limit = 20_000): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (key === '_csrf') continue;
    values[key] = (Array.isArray(value) ? value.map(String).join('\n') : String(value ?? '')).slice(0, limit);
  }
  return values;
}

/** Every value of a field that may repeat (checkboxes): formbody gives a string or an array. */
export function formList(body: unknown, name: string): string[] {
  const value = ((body ?? {}) as Record<string, unknown>)[name];
  if (value === undefined || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The value typed into `name` the last time, when `state` is this form's. */
export const typed = (state: FormState | null | undefined, form: string, name: string, fallback = ''): string =>
  state && state.form === form ? (state.values[name] ?? '') : fallback;

/** The refusal message above a form, announced to screen readers. */
export const formError = (state: FormState | null | undefined, form: string): Html =>
  state && state.form === form && state.message
    ? html`<div class="flash error" role="alert" id="${form}-error">${state.message}</div>`
    : html``;
