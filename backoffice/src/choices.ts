// The known sets a form picks from instead of typed ids (form option `choices`), built from the
// live lists the back office loads.
import type { Choice } from './form.js';
import type { AuthorizationProfile, JwtVerifier, KeyPair, Route } from './shapes.js';

/** The JWT verifiers a jwt-verifier instance may name, by id. */
export function verifierChoices(verifiers: JwtVerifier[]): Choice[] {
  return verifiers.map((v) => ({ value: v.id, label: v.name && v.name !== v.id ? `${v.name} (${v.id})` : v.id }));
}

/** What an authorized-entities list may name: each route (by id), and `tag:<name>` for each tag in use. */
export function routeChoices(routesList: Route[]): Choice[] {
  const tags = [...new Set(routesList.flatMap((r) => r.tags))].sort();
  return [
    ...routesList.map((r) => ({ value: r.id, label: r.name && r.name !== r.id ? `${r.name} (${r.id})` : r.id })),
    ...tags.map((t) => ({ value: `tag:${t}`, label: `Every route tagged ${t}` })),
  ];
}

/** The signing key pairs an API key's `jwt-sign-keypair` metadata may name, with their algorithm. */
export function keyPairChoices(pairs: KeyPair[]): Choice[] {
  return pairs.map((k) => ({ value: k.id, label: `${k.name} (${k.id}, ${k.alg})` }));
}

/** The authorization profiles an access request or an API key (its `authorization-profile` metadata) names. */
export function profileChoices(profiles: AuthorizationProfile[]): Choice[] {
  return profiles.map((p) => ({ value: p.id, label: p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id }));
}
