// The catalog: full-text search with suggestions, facets (category, price, rating, stock) and
// cursor pagination. The filters live in the URL, so a search can be shared and reloaded.
import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';

import { ProductsDocument, ProductSuggestDocument, type ProductFilter, type ProductSort } from '../gql/graphql';
import { Errors, money } from '../format';
import { Link, navigate, useLocation } from '../router';

const PAGE = 12;

export function CatalogPage() {
  const { query } = useLocation();
  const q = query.get('q') || '';
  const sort = (query.get('sort') || (q ? 'RELEVANCE' : 'NEWEST')) as ProductSort;
  const filter: ProductFilter = {};
  if (q) filter.search = q;
  if (query.get('category')) filter.categoryId = query.get('category');
  if (query.get('min')) filter.minPrice = Number(query.get('min'));
  if (query.get('max')) filter.maxPrice = Number(query.get('max'));
  if (query.get('rating')) filter.minRating = Number(query.get('rating'));
  if (query.get('instock')) filter.inStock = true;
  // Cursors of the pages before this one, for "Previous page".
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = cursors.length ? cursors[cursors.length - 1] : null;
  const [{ data, fetching, error }] = useQuery({
    query: ProductsDocument,
    variables: { first: PAGE, after, filter, sort },
  });
  const products = data?.products;

  const setParam = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    setCursors([]);
    navigate(`/?${next}`);
  };

  return (
    <>
      <h1>Catalog</h1>
      <SearchForm initial={q} onSearch={(text) => setParam({ q: text, sort: null })} />
      <div className="catalog">
        <aside aria-label="Filters">
          <h2>Filters</h2>
          {products && (
            <>
              <fieldset>
                <legend>Category</legend>
                <Radio name="category" value="" label="All" current={query.get('category') || ''} onPick={(v) => setParam({ category: v })} />
                {products.facets.categories.map((c) => (
                  <Radio
                    key={c.category.id}
                    name="category"
                    value={c.category.id}
                    label={`${c.category.name} (${c.count})`}
                    current={query.get('category') || ''}
                    onPick={(v) => setParam({ category: v })}
                  />
                ))}
              </fieldset>
              <fieldset>
                <legend>Price</legend>
                <Radio name="price" value="" label="Any" current={priceKey(query)} onPick={() => setParam({ min: null, max: null })} />
                {products.facets.priceBuckets.map((b) => {
                  const key = `${b.min}-${b.max ?? ''}`;
                  const cur = data.products.nodes[0]?.priceRange.min.currency || 'USD';
                  const label = b.max == null ? `${money({ amount: b.min, currency: cur })} and up` : `${money({ amount: b.min, currency: cur })} – ${money({ amount: b.max, currency: cur })}`;
                  return (
                    <Radio
                      key={key}
                      name="price"
                      value={key}
                      label={`${label} (${b.count})`}
                      current={priceKey(query)}
                      onPick={() => setParam({ min: String(b.min), max: b.max == null ? null : String(b.max) })}
                    />
                  );
                })}
              </fieldset>
              <fieldset>
                <legend>Rating</legend>
                <Radio name="rating" value="" label="Any" current={query.get('rating') || ''} onPick={(v) => setParam({ rating: v })} />
                {products.facets.ratings.map((r) => (
                  <Radio
                    key={r.minRating}
                    name="rating"
                    value={String(r.minRating)}
                    label={`${r.minRating}★ and up (${r.count})`}
                    current={query.get('rating') || ''}
                    onPick={(v) => setParam({ rating: v })}
                  />
                ))}
              </fieldset>
              <label>
                <input type="checkbox" checked={!!query.get('instock')} onChange={(e) => setParam({ instock: e.target.checked ? '1' : null })} /> In stock only (
                {products.facets.stock.inStock})
              </label>
            </>
          )}
        </aside>
        <section aria-labelledby="results">
          <div className="row">
            <h2 id="results">{products ? `${products.totalCount} products` : 'Products'}</h2>
            <label>
              Sort by
              <select value={sort} onChange={(e) => setParam({ sort: e.target.value })}>
                {q && <option value="RELEVANCE">Relevance</option>}
                <option value="NEWEST">Newest</option>
                <option value="PRICE_ASC">Price, low to high</option>
                <option value="PRICE_DESC">Price, high to low</option>
                <option value="NAME">Name</option>
                <option value="RATING">Rating</option>
                <option value="BEST_SELLING">Best selling</option>
              </select>
            </label>
          </div>
          <Errors error={error} />
          {fetching && !products && <p role="status">Loading…</p>}
          <ul className="grid">
            {products?.nodes.map((p) => (
              <li key={p.id} className="card">
                <h3>
                  <Link href={`/products/${p.slug}`}>{p.name}</Link>
                </h3>
                <p>
                  {money(p.priceRange.min)}
                  {p.priceRange.max.amount !== p.priceRange.min.amount && ` – ${money(p.priceRange.max)}`}
                </p>
                <p className="muted">
                  {p.rating.count ? `${p.rating.average?.toFixed(1)}★ (${p.rating.count})` : 'No reviews yet'} · {p.inStock ? 'In stock' : 'Out of stock'}
                </p>
              </li>
            ))}
          </ul>
          <nav aria-label="Pages" className="row">
            <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!products?.pageInfo.hasNextPage}
              onClick={() => setCursors([...cursors, products?.pageInfo.endCursor ?? null])}
            >
              Next page
            </button>
          </nav>
        </section>
      </div>
    </>
  );
}

function priceKey(q: URLSearchParams) {
  return q.get('min') ? `${q.get('min')}-${q.get('max') || ''}` : '';
}

function Radio(props: { name: string; value: string; label: string; current: string; onPick: (v: string) => void }) {
  return (
    <label>
      <input type="radio" name={props.name} value={props.value} checked={props.current === props.value} onChange={() => props.onPick(props.value)} />{' '}
      {props.label}
    </label>
  );
}

function SearchForm({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(initial);
  const prefix = text.trim();
  const [{ data }] = useQuery({ query: ProductSuggestDocument, variables: { prefix }, pause: prefix.length < 2 });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form role="search" onSubmit={submit} className="row">
      <label>
        Search products
        <input type="search" name="q" value={text} list="suggestions" onChange={(e) => setText(e.target.value)} />
      </label>
      <datalist id="suggestions">
        {data?.productSuggest.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit">Search</button>
    </form>
  );
}
