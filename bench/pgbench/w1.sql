-- W1 floor: the first page of the 20 newest ACTIVE products joined to their categories.
SELECT p.id, p.name, p.slug, p.min_price, c.id, c.name FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.status = 'ACTIVE' ORDER BY p.created_at DESC, p.id DESC LIMIT 20;
