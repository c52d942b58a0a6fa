/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql (the default). */
  readonly VITE_GRAPHQL_URL?: string;
  /** A Stripe publishable key: with one, the order page pays with Stripe Elements. */
  readonly VITE_STRIPE_PUBLISHABLE_KEY?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
