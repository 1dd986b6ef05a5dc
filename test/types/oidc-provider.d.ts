// oidc-provider ships no type declarations; the tests use it as a black-box identity provider.
declare module 'oidc-provider';
