import type { CodegenConfig } from '@graphql-codegen/cli';

// Types every operation the app sends from the API's own schema files, so that a change to the
// schema that breaks an operation fails `npm run codegen` (and the build), not the shopper.
// CODEGEN_OUT writes elsewhere: the Go test comparing the committed src/gql/ with a fresh run.
const config: CodegenConfig = {
  schema: '../../schema/*.graphqls',
  documents: 'src/operations/*.graphql',
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
