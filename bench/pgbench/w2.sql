-- W2 floor: one product by a random id, joined to its category.
-- run.sh passes -D minid=… -D maxid=… (the products table's id range).
\set id random(:minid, :maxid)
SELECT p.id, p.name, p.slug, p.description, p.vendor_id, p.min_price, p.max_price, p.currency, c.id, c.name FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.id = :id;
