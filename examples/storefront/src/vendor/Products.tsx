// The vendor's products, each variant's stock, and stock adjustments (with a reason).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';

import { ProductVariantStockAdjustDocument, VendorProductsDocument } from '../gql/graphql';
import { Errors, money } from '../format';
import { useVendor } from './useVendor';

export function VendorProductsPage() {
  const { vendor, fetching } = useVendor();
  if (!vendor) return fetching ? <p role="status">Loading…</p> : <NotAVendor />;
  return <Products />;
}

export function NotAVendor() {
  return (
    <>
      <h1>Vendor dashboard</h1>
      <p>This account does not sell on the marketplace.</p>
    </>
  );
}

function Products() {
  // Cursors of the pages before this one, for "Previous page".
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = cursors.length ? cursors[cursors.length - 1] : null;
  const [{ data, error }] = useQuery({ query: VendorProductsDocument, variables: { after }, requestPolicy: 'cache-and-network' });
  const [adjusted, adjust] = useMutation(ProductVariantStockAdjustDocument);
  const v = data?.me?.vendor;
  const onAdjust = (variantId: string) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const delta = Number(f.get('delta'));
    if (!delta) return;
    adjust({ input: { variantId, delta, reason: String(f.get('reason') || '') || null } });
    e.currentTarget.reset();
  };
  return (
    <>
      <h1>{v ? `${v.name}: products and stock` : 'Products and stock'}</h1>
      <Errors error={error} />
      <Errors errors={adjusted.data?.productVariantStockAdjust.userErrors} error={adjusted.error} />
      {v && (
        <table>
          <caption className="muted">
            {v.products.totalCount} products{v.lowStockThreshold != null && ` · low stock below ${v.lowStockThreshold}`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Variant</th>
              <th scope="col">Price</th>
              <th scope="col">Stock</th>
              <th scope="col">Adjust</th>
            </tr>
          </thead>
          <tbody>
            {v.products.nodes.flatMap((p) =>
              p.variants.map((x) => (
                <tr key={x.id}>
                  <td>
                    {p.name}
                    {p.status === 'ARCHIVED' && ' (archived)'}
                  </td>
                  <td>
                    {x.name} <span className="muted">{x.sku}</span>
                  </td>
                  <td>{money(x.price)}</td>
                  <td>
                    {x.quantityAvailable ?? '—'} <span className="muted">{x.stockStatus.replace(/_/g, ' ').toLowerCase()}</span>
                  </td>
                  <td>
                    <form className="row" onSubmit={onAdjust(x.id)} aria-label={`Adjust stock of ${p.name} ${x.name}`}>
                      <label>
                        Change by
                        <input name="delta" type="number" size={5} required />
                      </label>
                      <label>
                        Reason
                        <input name="reason" size={10} />
                      </label>
                      <button type="submit" className="secondary">
                        Apply
                      </button>
                    </form>
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages" className="row">
        <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!v?.products.pageInfo.hasNextPage}
          onClick={() => setCursors([...cursors, v?.products.pageInfo.endCursor ?? null])}
        >
          Next page
        </button>
      </nav>
    </>
  );
}
