-- name: ProductPageGetByID :one
-- ProductPageGetByID is a product with, when asked for, its category, its vendor's row and its
-- live variants in display order (a JSON array, each with its effective low-stock threshold):
-- one round trip instead of one statement per relation. The relations not asked for cost
-- nothing: the joins' conditions and the CASE are false.
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active,
    c.name AS category_name, c.slug AS category_slug, c.parent_id AS category_parent_id,
    vd.name AS vendor_name, vd.slug AS vendor_slug, vd.description AS vendor_description, vd.logo_url AS vendor_logo_url,
    vd.status AS vendor_status, vd.contact_email AS vendor_contact_email, vd.commission_bps AS vendor_commission_bps,
    vd.applicant_id AS vendor_applicant_id, vd.created_at AS vendor_created_at, vd.updated_at AS vendor_updated_at,
    vd.low_stock_threshold AS vendor_low_stock_threshold,
    (CASE WHEN @with_variants::boolean THEN (
        SELECT COALESCE(json_agg(json_build_object(
            'id', v.id, 'sku', v.sku, 'name', v.name, 'options', v.options, 'price', v.price_amount,
            'currency', v.currency, 'stock', v.stock, 'position', v.position,
            'threshold', low_stock_threshold_of(v.low_stock_threshold, p.vendor_id)
        ) ORDER BY v.position, v.id), '[]'::json)
        FROM product_variants v
        WHERE v.product_id = p.id AND v.deleted_at IS NULL
    ) END)::json AS variants
FROM products p
LEFT JOIN categories c ON c.id = p.category_id AND @with_category::boolean
LEFT JOIN vendors vd ON vd.id = p.vendor_id AND @with_vendor::boolean
WHERE p.id = @id;
