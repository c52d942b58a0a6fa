import { useQuery } from 'urql';

import { MeDocument } from '../gql/graphql';

/** The vendor the signed-in account acts for, if any. */
export function useVendor() {
  const [{ data, fetching, error }] = useQuery({ query: MeDocument });
  return { vendor: data?.me?.vendor ?? null, fetching, error };
}
