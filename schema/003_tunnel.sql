-- 003_tunnel.sql - schema version 3: where a handshake was seen through a tunnel or mirror, and
-- what the decoder could not take apart. Written by src/store_write.c; decoded by
-- src/decode_tunnel.c. Every column is documented in schema/README.md.
-- The flow of a row is always the innermost 5-tuple (client and server as they talked); these
-- columns are context, so one client seen through two mirrors is still one client.

ALTER TABLE handshakes ADD COLUMN tunnel TEXT;     -- outermost tunnel: vxlan, geneve, gre, erspan1/2/3, mpls, pppoe, ip4in4, ip6in4, ip4in6, ip6in6
ALTER TABLE handshakes ADD COLUMN vlan INTEGER;    -- VLAN id of the innermost 802.1Q tag inside the tunnel (or ERSPAN's)
ALTER TABLE handshakes ADD COLUMN vni INTEGER;     -- VXLAN / GENEVE network identifier
ALTER TABLE handshakes ADD COLUMN sgt INTEGER;     -- Cisco TrustSec Security Group Tag (Cisco MetaData or ERSPAN III)

ALTER TABLE runs ADD COLUMN tunneled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_mpls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_pppoe INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_gre INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_erspan INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_vxlan INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_geneve INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_cmd INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN undecoded_ipip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN tunnel_too_deep INTEGER NOT NULL DEFAULT 0;
