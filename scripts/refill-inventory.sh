#!/bin/sh
# refill-inventory.sh DB - TEMPORARY (issue 17, until branch `inventory` makes the store writer
# maintain the inventory during capture): rebuild inventory, daily_rollups and daily_clients of
# DB from its retained handshakes by re-running the INSERT ... SELECT statements of
# schema/004_inventory.sql (the migration), after deleting their rows. The report tests, the demo
# and the report bench call it after each capture; delete it and its calls once capture keeps the
# tables itself.
set -eu
db=$1
here=$(cd "$(dirname "$0")/.." && pwd)
sql=$(sed -n '/^CREATE TEMP TABLE ta_mig/,/^DROP TABLE ta_mig;/p' "$here/schema/004_inventory.sql")
[ -n "$sql" ] || { echo "refill-inventory: no migration statements found" >&2; exit 1; }
sqlite3 "$db" <<SQL
BEGIN;
DELETE FROM inventory; DELETE FROM daily_rollups; DELETE FROM daily_clients;
$sql
COMMIT;
SQL
