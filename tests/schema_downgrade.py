#!/usr/bin/env python3
"""schema_downgrade.py SCHEMA_DIR VERSION - print the SQL that takes a database made by this
tlsaudit back to what schema VERSION looked like, by undoing what every later schema/NNN_*.sql
added: its triggers, indexes, views and tables are dropped and its added columns removed. Tests
use it to make an 'old' file from real captured data and check the migration path."""
import os
import re
import sys

sdir, keep = sys.argv[1], int(sys.argv[2])
drops = {"trigger": [], "index": [], "view": [], "table": [], "column": []}
for name in sorted(os.listdir(sdir)):
    m = re.match(r"(\d+)_.*\.sql$", name)
    if not m or int(m.group(1)) <= keep:
        continue
    text = open(os.path.join(sdir, name), encoding="utf-8").read()
    text = re.sub(r"--[^\n]*", "", text)
    for kind, rx in (("trigger", r"CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)"),
                     ("index", r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)"),
                     ("view", r"CREATE\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)"),
                     ("table", r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)")):
        drops[kind] += re.findall(rx, text, re.I)
    drops["column"] += re.findall(r"ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", text, re.I)
out = []
out += ["DROP TRIGGER IF EXISTS %s;" % t for t in drops["trigger"]]
out += ["DROP INDEX IF EXISTS %s;" % i for i in drops["index"]]
out += ["DROP VIEW IF EXISTS %s;" % v for v in drops["view"]]
out += ["DROP TABLE IF EXISTS %s;" % t for t in drops["table"]]
# a column added to a table that a later file's undo drops anyway (009 adds to 004's inventory)
out += ["ALTER TABLE %s DROP COLUMN %s;" % c for c in drops["column"]
        if c[0].lower() not in (t.lower() for t in drops["table"])]
out.append("PRAGMA user_version = %d;" % keep)
print("\n".join(out))
