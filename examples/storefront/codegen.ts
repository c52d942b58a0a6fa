import type { CodegenConfig } from '@graphql-codegen/cli';

// Types the documented operations (docs/operations), which are the only ones the app sends, from
// the API's own schema files: a schema change that breaks one fails `npm run codegen` (and the
// build), not the shopper, and the app cannot drift from what the docs and API tests run.
// CODEGEN_OUT writes elsewhere: the Go test comparing the committed src/gql/ with a fresh run.
const config: CodegenConfig = {
  schema: '../../schema/*.graphqls',
  documents: '../../docs/operations/**/*.graphql',
  generates: {
    [process.env.CODEGEN_OUT || 'src/gql/']: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { Int64: 'number', DateTime: 'string' },
      },
    },
  },
};

export default config;
