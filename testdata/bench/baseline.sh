#!/usr/bin/env bash
# The hand-written baseline for BenchmarkImportStock1M: the sqlite3 CLI (C
# SQLite) doing the same import as "inv bulk import" with no checks at all:
# .import into a staging table, one INSERT INTO movements … SELECT and one
# UPDATE … FROM join. Same schema (inv's migrations), same 1,000,000
# products, same file, every row a change.
#
#   testdata/bench/baseline.sh [ROWS]     (needs: sqlite3, the Debian package)
set -euo pipefail
n=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/base.db
sqlite3 "$db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" >/dev/null
sqlite3 "$db" < "$here/../../internal/engine/migrations/0001_init.sql"
sqlite3 "$db" "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $n)
  INSERT INTO products (id, store_id, title, slug, sku, sku_key, track_stock, stock, created_at, updated_at)
  SELECT printf('prod_%020d', i), 'default', printf('Product %d', i), printf('product-%d', i),
         printf('SKU-%07d', i), printf('sku-%07d', i), 1, 10, 0, 0 FROM seq;"
{ echo "sku,qty"; seq 0 $((n - 1)) | awk '{ printf "SKU-%07d,100\n", $1 }'; } > "$work/stock.csv"
start=$(date +%s.%N)
sqlite3 "$db" <<SQL
PRAGMA synchronous=NORMAL;
CREATE TEMP TABLE staging (sku TEXT, qty INTEGER);
.import --csv --skip 1 $work/stock.csv staging
BEGIN IMMEDIATE;
INSERT INTO movements (store_id, product_pk, sku, delta, stock_after, reason, source, actor, created_at)
  SELECT 'default', p.pk, p.sku, s.qty - p.stock, s.qty, 'import', 'import:stock.csv', 'baseline', 0
  FROM temp.staging s JOIN products p ON p.store_id = 'default' AND p.sku_key = lower(trim(s.sku)) AND p.deleted_at IS NULL;
UPDATE products SET stock = s.qty, updated_at = 1
  FROM temp.staging s WHERE products.store_id = 'default' AND products.sku_key = lower(trim(s.sku)) AND products.deleted_at IS NULL;
COMMIT;
SQL
end=$(date +%s.%N)
echo "baseline: $n rows in $(echo "$end - $start" | bc) s"
sqlite3 "$db" "SELECT count(*) AS movements FROM movements; SELECT count(*) AS products_at_100 FROM products WHERE stock = 100;"
