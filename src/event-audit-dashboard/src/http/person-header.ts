import type { FastifyInstance } from 'fastify';
import { html } from '../../assets/js/html.js';
import { PERSON_SLOT } from '../views/layout.ts';

const SLOT = PERSON_SLOT.toString();

/** Shows who is signed in, with a logout button, in the header of every page (before compression). */
export function registerPersonHeader(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    const person = request.person;
    if (person === undefined) return payload;
    const who = html`<form class="whoami" method="post" action="/logout"><span class="whoami-name"><span class="whoami-label">Signed in as </span><strong data-person>${person.name}</strong></span>${
      person.via === 'session' ? html` <button class="btn btn-quiet btn-small" type="submit">Log out</button>` : ''
    }</form>`;
    return payload.replace(SLOT, who.toString());
  });
}
