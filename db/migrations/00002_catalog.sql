-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug       text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    parent_id  bigint      REFERENCES categories (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id <> id)
);
CREATE UNIQUE INDEX categories_slug_key ON categories (slug);
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

CREATE TYPE product_status AS ENUM ('ACTIVE', 'ARCHIVED');

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text           NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text           NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description text           NOT NULL DEFAULT '',
    category_id bigint         REFERENCES categories (id) ON DELETE RESTRICT,
    -- The VENDOR account that owns the product; NULL for the platform's own products.
    vendor_id   bigint         REFERENCES users (id) ON DELETE RESTRICT,
    attributes  jsonb          NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    image_urls  text[]         NOT NULL DEFAULT '{}',
    status      product_status NOT NULL DEFAULT 'ACTIVE',
    -- ISO 4217 code shared by every variant's price.
    currency    text           NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Cheapest and dearest live variant, kept by the product service in the transaction that
    -- changes a variant, so that price sorting and filtering can use an index.
    min_price   bigint         NOT NULL DEFAULT 0,
    max_price   bigint         NOT NULL DEFAULT 0,
    search      tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', name), 'A') ||
                    setweight(to_tsvector('english', description), 'B')) STORED,
    created_at  timestamptz    NOT NULL DEFAULT now(),
    updated_at  timestamptz    NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX products_slug_key ON products (slug);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_price_idx ON products (min_price, id);
CREATE INDEX products_name_idx ON products (name, id);
CREATE INDEX products_category_id_idx ON products (category_id, created_at DESC, id DESC);
CREATE INDEX products_vendor_id_idx ON products (vendor_id, created_at DESC, id DESC);

CREATE TABLE product_variants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id   bigint      NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku          text        NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name         text        NOT NULL DEFAULT '',
    -- Option values such as {"size": "M", "colour": "red"}.
    options      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    price_amount bigint      NOT NULL CHECK (price_amount >= 0),
    -- Always the product's currency (fixed at creation); kept here so a variant's price is
    -- self-contained for carts and orders.
    currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stock        integer     NOT NULL DEFAULT 0 CHECK (stock >= 0),
    position     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Variants are soft-deleted: carts and orders keep pointing at them.
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX product_variants_sku_key ON product_variants (sku);
CREATE INDEX product_variants_product_id_idx ON product_variants (product_id, position, id);
CREATE INDEX product_variants_in_stock_idx ON product_variants (product_id) WHERE stock > 0 AND deleted_at IS NULL;

-- +goose Down
DROP TABLE product_variants;
DROP TABLE products;
DROP TYPE product_status;
DROP TABLE categories;
